#include "proto/framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace grapevine::proto {
namespace {

std::vector<uint8_t> FrameBytes(const FrameHeader& h, const std::vector<uint8_t>& payload,
                                const std::optional<FrameMac>& mac = std::nullopt) {
  // Sized up front: g++ 12 warns (-Warray-bounds, a false positive) on
  // vector::insert after constructing from a std::array.
  auto header = EncodeFrameHeader(h);
  std::vector<uint8_t> out(header.size() + payload.size() + (mac ? mac->size() : 0));
  auto it = std::copy(header.begin(), header.end(), out.begin());
  it = std::copy(payload.begin(), payload.end(), it);
  if (mac) std::copy(mac->begin(), mac->end(), it);
  return out;
}

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + i * 7);
  return v;
}

TEST(FrameHeaderTest, RoundTrip) {
  FrameHeader h{kProtocolMajor, 3, kFlagMac, 0x01020304};
  auto bytes = EncodeFrameHeader(h);
  EXPECT_EQ(bytes[0], 'G');
  EXPECT_EQ(bytes[3], 'V');
  EXPECT_EQ(bytes[6], 2);     // flags LE (kFlagMac)
  EXPECT_EQ(bytes[8], 0x04);  // length LE
  EXPECT_EQ(bytes[11], 0x01);
  auto back = DecodeFrameHeader(bytes, std::numeric_limits<uint32_t>::max());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, h);
}

TEST(FrameHeaderTest, WrongMagic) {
  auto bytes = EncodeFrameHeader({});
  bytes[0] = 'H';
  auto r = DecodeFrameHeader(bytes, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(r.status().message().find("magic"), std::string::npos);
}

TEST(FrameHeaderTest, WrongMajorNamesBothVersions) {
  auto bytes = EncodeFrameHeader({2, 7, 0, 10});
  auto r = DecodeFrameHeader(bytes, 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2.7"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("we speak 1.1"), std::string::npos) << r.status().message();
}

TEST(FrameHeaderTest, NewerMinorIsAccepted) {
  auto r = DecodeFrameHeader(EncodeFrameHeader({kProtocolMajor, 9, 0, 10}), 1024);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->minor, 9);
}

TEST(FrameHeaderTest, UnknownFlagRejected) {
  auto r = DecodeFrameHeader(EncodeFrameHeader({kProtocolMajor, 0, 0x8000, 10}), 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("flags"), std::string::npos);
}

// Protocol 1.0's HMAC-SHA256 trailer (flag bit 0, 32 bytes) is retired: a 1.0 peer's
// authenticated frame fails loudly instead of being misread.
TEST(FrameHeaderTest, RetiredHmacFlagRejected) {
  auto r = DecodeFrameHeader(EncodeFrameHeader({kProtocolMajor, 0, 0x0001, 10}), 1024);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown frame flags 0x0001"), std::string::npos)
      << r.status().message();
  EXPECT_TRUE(DecodeFrameHeader(EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 10}), 1024).ok());
}

TEST(FrameHeaderTest, LengthOverLimitRejected) {
  auto bytes = EncodeFrameHeader({kProtocolMajor, 0, 0, 0xFFFFFFFFu});  // ~4 GiB
  auto r = DecodeFrameHeader(bytes, kDefaultMaxFrameBytes);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("4294967295"), std::string::npos);
  EXPECT_TRUE(DecodeFrameHeader(EncodeFrameHeader({kProtocolMajor, 0, 0, 1024}), 1024).ok());
  EXPECT_FALSE(DecodeFrameHeader(EncodeFrameHeader({kProtocolMajor, 0, 0, 1025}), 1024).ok());
}

TEST(FrameDecoderTest, HugeLengthPoisonsWithoutBuffering) {
  FrameDecoder dec(1 << 20);
  auto bytes = FrameBytes({kProtocolMajor, 0, 0, 0xFFFFFFF0u}, {});
  Status st = dec.Feed(bytes);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(dec.buffered_bytes(), kFrameHeaderBytes);  // the header only, no payload reserved
  EXPECT_FALSE(dec.Next().has_value());
  // Poisoned: more bytes, even good ones, keep failing.
  auto good = FrameBytes({kProtocolMajor, 0, 0, 4}, Pattern(4, 1));
  EXPECT_FALSE(dec.Feed(good).ok());
  EXPECT_FALSE(dec.Next().has_value());
}

TEST(FrameDecoderTest, AnnouncedLengthIsNotReservedUpFront) {
  FrameDecoder dec(kDefaultMaxFrameBytes);
  ASSERT_TRUE(dec.Feed(EncodeFrameHeader({kProtocolMajor, 0, 0, kDefaultMaxFrameBytes})).ok());
  ASSERT_TRUE(dec.Feed(Pattern(100, 0)).ok());
  EXPECT_EQ(dec.buffered_bytes(), kFrameHeaderBytes + 100);
  EXPECT_FALSE(dec.Next().has_value());
}

struct Sample {
  FrameHeader header;
  std::vector<uint8_t> payload;
  std::optional<FrameMac> mac;
};

std::vector<Sample> SampleFrames() {
  std::vector<Sample> s;
  s.push_back({{kProtocolMajor, 0, 0, 0}, {}, std::nullopt});
  s.push_back({{kProtocolMajor, 0, 0, 5}, Pattern(5, 3), std::nullopt});
  FrameMac mac{};
  for (size_t i = 0; i < mac.size(); ++i) mac[i] = static_cast<uint8_t>(200 + i);
  s.push_back({{kProtocolMajor, 0, kFlagMac, 1000}, Pattern(1000, 9), mac});
  s.push_back({{kProtocolMajor, 2, kFlagMac, 0}, {}, mac});
  s.push_back({{kProtocolMajor, 0, 0, 64}, Pattern(64, 77), std::nullopt});
  return s;
}

std::vector<uint8_t> Stream(const std::vector<Sample>& frames) {
  std::vector<uint8_t> out;
  for (const auto& f : frames) {
    auto b = FrameBytes(f.header, f.payload, f.mac);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

void ExpectFrames(FrameDecoder& dec, const std::vector<Sample>& want) {
  ASSERT_EQ(dec.pending(), want.size());
  for (const auto& w : want) {
    auto f = dec.Next();
    ASSERT_TRUE(f.has_value());
    EXPECT_EQ(f->header, w.header);
    EXPECT_EQ(f->payload, w.payload);
    EXPECT_EQ(f->mac, w.mac);
  }
  EXPECT_FALSE(dec.Next().has_value());
  EXPECT_EQ(dec.buffered_bytes(), 0u);
}

TEST(FrameDecoderTest, WholeStreamAtOnce) {
  auto frames = SampleFrames();
  FrameDecoder dec(4096);
  ASSERT_TRUE(dec.Feed(Stream(frames)).ok());
  ExpectFrames(dec, frames);
}

TEST(FrameDecoderTest, ByteByByteGivesSameFrames) {
  auto frames = SampleFrames();
  auto stream = Stream(frames);
  FrameDecoder dec(4096);
  for (uint8_t b : stream) ASSERT_TRUE(dec.Feed(std::span<const uint8_t>(&b, 1)).ok());
  ExpectFrames(dec, frames);
}

TEST(FrameDecoderTest, RandomChunkingGivesSameFrames) {
  auto frames = SampleFrames();
  auto stream = Stream(frames);
  for (uint32_t seed = 1; seed <= 50; ++seed) {
    std::mt19937 rng(seed);
    FrameDecoder dec(4096);
    size_t pos = 0;
    while (pos < stream.size()) {
      size_t n = std::min<size_t>(stream.size() - pos, rng() % 40);
      ASSERT_TRUE(dec.Feed(std::span<const uint8_t>(stream).subspan(pos, n)).ok());
      pos += n;
    }
    ExpectFrames(dec, frames);
  }
}

TEST(FrameDecoderTest, FramesBeforeBadHeaderSurvive) {
  auto frames = SampleFrames();
  auto stream = Stream(frames);
  stream.insert(stream.end(), {'X', 'X', 'X', 'X', 1, 0, 0, 0, 0, 0, 0, 0});
  FrameDecoder dec(4096);
  EXPECT_FALSE(dec.Feed(stream).ok());
  EXPECT_EQ(dec.pending(), frames.size());
}

TEST(FrameDecoderTest, PayloadIsWordAligned) {
  FrameDecoder dec(4096);
  ASSERT_TRUE(dec.Feed(FrameBytes({kProtocolMajor, 0, 0, 16}, Pattern(16, 0))).ok());
  auto f = dec.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f->payload.data()) % 8, 0u);
}

}  // namespace
}  // namespace grapevine::proto
