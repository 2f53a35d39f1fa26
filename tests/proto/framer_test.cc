#include "proto/framer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace grapevine::proto {
namespace {

// A frame written by hand (header + payload), independent of FrameEncoder.
std::vector<uint8_t> FrameBytes(const FrameHeader& h, const std::vector<uint8_t>& payload) {
  // Sized up front: g++ 12 warns (-Warray-bounds, a false positive) on
  // vector::insert after constructing from a std::array.
  auto header = EncodeFrameHeader(h);
  std::vector<uint8_t> out(header.size() + payload.size());
  auto it = std::copy(header.begin(), header.end(), out.begin());
  std::copy(payload.begin(), payload.end(), it);
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

// Records what the decoder asks of its pool; hands out heap blocks.
class CountingPool final : public PayloadPool {
 public:
  std::shared_ptr<uint8_t> Acquire(size_t bytes) override {
    requests.push_back(bytes);
    return std::shared_ptr<uint8_t>(new uint8_t[bytes], std::default_delete<uint8_t[]>());
  }
  std::vector<size_t> requests;
};

std::vector<uint8_t> Bytes(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

TEST(FrameDecoderTest, HugeLengthPoisonsWithoutAllocating) {
  CountingPool pool;
  FrameDecoder dec(1 << 20, &pool);
  auto bytes = FrameBytes({kProtocolMajor, 0, 0, 0xFFFFFFF0u}, {});
  Status st = dec.Feed(bytes);
  EXPECT_EQ(st.code(), StatusCode::kInvalidInput);
  EXPECT_NE(st.message().find("exceeds the limit"), std::string::npos) << st.message();
  EXPECT_EQ(dec.buffered_bytes(), kFrameHeaderBytes);  // the header only
  EXPECT_TRUE(pool.requests.empty());
  EXPECT_FALSE(dec.Next().has_value());
  // Poisoned: more bytes, even good ones, keep failing, and there is nowhere to put them.
  auto good = FrameBytes({kProtocolMajor, 0, 0, 4}, Pattern(4, 1));
  EXPECT_FALSE(dec.Feed(good).ok());
  EXPECT_TRUE(dec.Prepare(100).empty());
  EXPECT_FALSE(dec.Commit(0).ok());
  EXPECT_FALSE(dec.Finish().ok());
  EXPECT_FALSE(dec.Next().has_value());
}

// The length is checked before the pool is asked; a frame at the limit gets exactly
// its length, once, and nothing more is buffered than what arrived.
TEST(FrameDecoderTest, BigFrameMemoryComesFromThePoolAfterTheCheck) {
  CountingPool pool;
  const uint32_t limit = 4u << 20;
  FrameDecoder dec(limit, &pool);
  EXPECT_FALSE(FrameDecoder(limit, &pool).Feed(EncodeFrameHeader({kProtocolMajor, 0, 0, limit + 1})).ok());
  EXPECT_TRUE(pool.requests.empty());
  ASSERT_TRUE(dec.Feed(EncodeFrameHeader({kProtocolMajor, 0, 0, limit})).ok());
  ASSERT_TRUE(dec.Feed(Pattern(100, 0)).ok());
  EXPECT_EQ(pool.requests, std::vector<size_t>{limit});
  EXPECT_EQ(dec.buffered_bytes(), kFrameHeaderBytes + 100);
  EXPECT_FALSE(dec.Next().has_value());
}

TEST(FrameDecoderTest, SmallFramesDoNotUseThePool) {
  CountingPool pool;
  FrameDecoder dec(kDefaultMaxFrameBytes, &pool);
  const size_t small = kPooledFrameBytes - 8, big = kPooledFrameBytes;
  auto a = FrameBytes({kProtocolMajor, 0, 0, static_cast<uint32_t>(small)}, Pattern(small, 1));
  auto b = FrameBytes({kProtocolMajor, 0, 0, static_cast<uint32_t>(big)}, Pattern(big, 2));
  ASSERT_TRUE(dec.Feed(a).ok());
  ASSERT_TRUE(dec.Feed(b).ok());
  EXPECT_EQ(pool.requests, std::vector<size_t>{big});
  auto fa = dec.Next(), fb = dec.Next();
  ASSERT_TRUE(fa && fb);
  EXPECT_EQ(Bytes(fa->payload), Pattern(small, 1));
  EXPECT_EQ(Bytes(fb->payload), Pattern(big, 2));
  EXPECT_EQ(fb->payload.data(), fb->storage.get());
}

struct Sample {
  FrameHeader header;
  std::vector<uint8_t> payload;
};

std::vector<Sample> SampleFrames() {
  std::vector<Sample> s;
  s.push_back({{kProtocolMajor, 0, 0, 0}, {}});
  s.push_back({{kProtocolMajor, 0, 0, 5}, Pattern(5, 3)});
  s.push_back({{kProtocolMajor, 2, 0, 1000}, Pattern(1000, 9)});
  s.push_back({{kProtocolMajor, 0, 0, 64}, Pattern(64, 77)});
  return s;
}

std::vector<uint8_t> Stream(const std::vector<Sample>& frames) {
  std::vector<uint8_t> out;
  for (const auto& f : frames) {
    auto b = FrameBytes(f.header, f.payload);
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
    EXPECT_EQ(Bytes(f->payload), w.payload);
  }
  EXPECT_FALSE(dec.Next().has_value());
  EXPECT_EQ(dec.buffered_bytes(), 0u);
  EXPECT_TRUE(dec.Finish().ok());
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

// What a session does: receive only into Prepare()'s span (here: short reads of random
// size). The spans never cross a frame boundary, so a frame is complete exactly when
// nothing of the next one has been consumed — which is what lets a session change the
// limit or the opener between frames.
TEST(FrameDecoderTest, PrepareNeverCrossesAFrameBoundary) {
  auto frames = SampleFrames();
  auto stream = Stream(frames);
  std::mt19937 rng(3);
  FrameDecoder dec(4096);
  size_t pos = 0, completed = 0;
  while (pos < stream.size()) {
    std::span<uint8_t> space = dec.Prepare(1 + rng() % 600);
    ASSERT_FALSE(space.empty());
    size_t n = std::min<size_t>({space.size(), stream.size() - pos, 1 + rng() % 600});
    std::copy_n(stream.begin() + static_cast<ptrdiff_t>(pos), n, space.begin());
    pos += n;
    ASSERT_TRUE(dec.Commit(n).ok());
    if (dec.pending() > completed) {
      completed = dec.pending();
      EXPECT_EQ(dec.buffered_bytes(), 0u) << "read past the end of frame " << completed;
    }
  }
  ExpectFrames(dec, frames);
}

TEST(FrameDecoderTest, GarbageIsRejectedWithAReason) {
  std::mt19937 rng(11);
  std::vector<uint8_t> garbage(4096);
  for (auto& b : garbage) b = static_cast<uint8_t>(rng());
  garbage[0] = 'X';
  FrameDecoder dec(4096);
  Status st = dec.Feed(garbage);
  EXPECT_EQ(st.code(), StatusCode::kInvalidInput);
  EXPECT_NE(st.message().find("bad frame magic"), std::string::npos) << st.message();
  EXPECT_EQ(dec.pending(), 0u);
}

TEST(FrameDecoderTest, TruncatedStreamSaysWhereItWasCut) {
  auto frame = FrameBytes({kProtocolMajor, 0, 0, 100}, Pattern(100, 4));
  {
    FrameDecoder dec(4096);
    ASSERT_TRUE(dec.Feed(std::span<const uint8_t>(frame).first(5)).ok());
    EXPECT_NE(dec.Finish().message().find("inside a frame header (5 of 12"), std::string::npos)
        << dec.Finish().message();
  }
  {
    FrameDecoder dec(4096);
    ASSERT_TRUE(dec.Feed(std::span<const uint8_t>(frame).first(kFrameHeaderBytes + 10)).ok());
    EXPECT_EQ(dec.Finish().code(), StatusCode::kInvalidInput);
    EXPECT_NE(dec.Finish().message().find("after 10 of 100 payload bytes"), std::string::npos)
        << dec.Finish().message();
    EXPECT_FALSE(dec.Next().has_value());
  }
  {
    FrameDecoder dec(4096);
    ASSERT_TRUE(dec.Feed(frame).ok());
    EXPECT_TRUE(dec.Finish().ok());  // between frames: a clean end
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

TEST(FrameDecoderTest, LimitAppliesFromTheNextHeader) {
  FrameDecoder dec(64);
  ASSERT_TRUE(dec.Feed(FrameBytes({kProtocolMajor, 0, 0, 64}, Pattern(64, 1))).ok());
  dec.set_max_frame_bytes(128);
  ASSERT_TRUE(dec.Feed(FrameBytes({kProtocolMajor, 0, 0, 128}, Pattern(128, 1))).ok());
  EXPECT_FALSE(dec.Feed(FrameBytes({kProtocolMajor, 0, 0, 129}, Pattern(129, 1))).ok());
  EXPECT_EQ(dec.pending(), 2u);
}

// ---- frame stages ---------------------------------------------------------------------

// A toy transforming stage (XOR "cipher" plus a byte-sum trailer) standing in for an
// AEAD: the encoder must write what SealBytes returns, the decoder must hand out what
// OpenBytes rewrote in place, and a bad trailer must poison the stream.
class XorSealer final : public FrameSealer {
 public:
  uint16_t flags() const override { return kFlagMac; }
  size_t trailer_bytes() const override { return 4; }
  void BeginSeal(std::span<const uint8_t>) override {
    sum_ = 0;
    scratch_.clear();
  }
  std::span<const uint8_t> SealBytes(std::span<const uint8_t> bytes) override {
    // Each call's output must survive until the batch is written: keep them all.
    auto& out = scratch_.emplace_back(bytes.begin(), bytes.end());
    for (auto& b : out) {
      sum_ += b;
      b ^= 0x5a;
    }
    ++calls;
    return out;
  }
  void FinishSeal(std::span<uint8_t> trailer) override {
    for (int i = 0; i < 4; ++i) trailer[i] = static_cast<uint8_t>(sum_ >> (8 * i));
  }
  int calls = 0;

 private:
  uint32_t sum_ = 0;
  std::deque<std::vector<uint8_t>> scratch_;
};

class XorOpener final : public FrameOpener {
 public:
  uint16_t flags() const override { return kFlagMac; }
  size_t trailer_bytes() const override { return 4; }
  void BeginOpen(std::span<const uint8_t>) override { sum_ = 0; }
  void OpenBytes(std::span<uint8_t> bytes) override {
    for (auto& b : bytes) {
      b ^= 0x5a;
      sum_ += b;
    }
  }
  Status FinishOpen(std::span<const uint8_t> trailer) override {
    uint32_t got = 0;
    for (int i = 0; i < 4; ++i) got |= static_cast<uint32_t>(trailer[i]) << (8 * i);
    return got == sum_ ? Status::Ok() : Status::AuthFailed("checksum mismatch");
  }

 private:
  uint32_t sum_ = 0;
};

// Writes a frame through the encoder and collects its batches.
std::vector<std::vector<std::span<const uint8_t>>> Batches(FrameEncoder& enc,
                                                           std::vector<std::span<const uint8_t>> p) {
  enc.Begin(std::move(p));
  std::vector<std::vector<std::span<const uint8_t>>> out;
  for (auto* b = &enc.NextBatch(); !b->empty(); b = &enc.NextBatch()) out.push_back(*b);
  return out;
}

std::vector<uint8_t> Join(const std::vector<std::vector<std::span<const uint8_t>>>& batches) {
  std::vector<uint8_t> out;
  for (const auto& b : batches) {
    for (auto piece : b) out.insert(out.end(), piece.begin(), piece.end());
  }
  return out;
}

TEST(FrameEncoderTest, WithoutSealerTheWholeFrameIsOneGatherList) {
  auto a = Pattern(300, 1), b = Pattern(5, 2);
  FrameEncoder enc(64);
  auto batches = Batches(enc, {a, {}, b});
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].size(), 3u);  // header, a, b (the empty piece is skipped)
  EXPECT_EQ(enc.frame_bytes(), kFrameHeaderBytes + 305);
  std::vector<uint8_t> payload = a;
  payload.insert(payload.end(), b.begin(), b.end());
  EXPECT_EQ(Join(batches), FrameBytes({kProtocolMajor, kProtocolMinor, 0, 305}, payload));
}

TEST(FrameEncoderTest, SealedFramesGoOutInChunksAndDecodeByteByByte) {
  XorSealer sealer;
  XorOpener opener;
  FrameEncoder enc(64);
  enc.set_sealer(&sealer);
  auto a = Pattern(150, 1), b = Pattern(30, 2);
  auto batches = Batches(enc, {a, b});
  ASSERT_EQ(batches.size(), 3u);  // 64 + 64 + 52 bytes of payload
  size_t payload_bytes = 0;
  for (size_t i = 0; i < batches.size(); ++i) {
    size_t n = 0;
    for (auto piece : batches[i]) n += piece.size();
    if (i == 0) n -= kFrameHeaderBytes;
    if (i + 1 == batches.size()) n -= 4;  // trailer
    EXPECT_LE(n, 64u);
    payload_bytes += n;
  }
  EXPECT_EQ(payload_bytes, 180u);
  EXPECT_EQ(batches[0][0].size(), kFrameHeaderBytes);
  std::vector<uint8_t> wire = Join(batches);
  ASSERT_EQ(wire.size(), enc.frame_bytes());
  // The payload on the wire is what the stage made of it.
  EXPECT_NE(std::vector<uint8_t>(wire.begin() + kFrameHeaderBytes,
                                 wire.begin() + kFrameHeaderBytes + 150),
            a);

  FrameDecoder dec(4096);
  dec.set_opener(&opener);
  for (uint8_t byte : wire) ASSERT_TRUE(dec.Feed(std::span<const uint8_t>(&byte, 1)).ok());
  auto f = dec.Next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->header.flags, kFlagMac);
  std::vector<uint8_t> want = a;
  want.insert(want.end(), b.begin(), b.end());
  EXPECT_EQ(Bytes(f->payload), want);

  // One flipped byte: the stage rejects the frame and the stream is poisoned.
  auto bad = Join(Batches(enc, {a, b}));
  bad[kFrameHeaderBytes + 7] ^= 1;
  Status st = dec.Feed(bad);
  EXPECT_EQ(st.code(), StatusCode::kAuthFailed);
  EXPECT_FALSE(dec.Next().has_value());
  EXPECT_FALSE(dec.Feed(wire).ok());
}

TEST(FrameEncoderTest, EmptyPayloadWithSealerIsHeaderAndTrailer) {
  XorSealer sealer;
  FrameEncoder enc;
  enc.set_sealer(&sealer);
  auto batches = Batches(enc, {});
  ASSERT_EQ(batches.size(), 1u);
  ASSERT_EQ(batches[0].size(), 2u);
  EXPECT_EQ(batches[0][1].size(), 4u);
  EXPECT_EQ(sealer.calls, 0);
  XorOpener opener;
  FrameDecoder dec;
  dec.set_opener(&opener);
  ASSERT_TRUE(dec.Feed(Join(batches)).ok());
  ASSERT_EQ(dec.pending(), 1u);
}

// A session turns the opener on after the handshake: earlier frames carry no trailer,
// later ones must, and a frame announcing a trailer before that is refused.
TEST(FrameDecoderTest, OpenerSwitchesOnBetweenFrames) {
  XorSealer sealer;
  XorOpener opener;
  FrameEncoder plain, sealed;
  sealed.set_sealer(&sealer);
  auto p = Pattern(40, 6);
  FrameDecoder dec(4096);
  ASSERT_TRUE(dec.Feed(Join(Batches(plain, {p}))).ok());
  dec.set_opener(&opener);
  ASSERT_TRUE(dec.Feed(Join(Batches(sealed, {p}))).ok());
  ASSERT_EQ(dec.pending(), 2u);
  Status st = dec.Feed(Join(Batches(plain, {p})));
  EXPECT_EQ(st.code(), StatusCode::kAuthFailed);

  FrameDecoder early(4096);
  st = early.Feed(Join(Batches(sealed, {p})));
  EXPECT_EQ(st.code(), StatusCode::kInvalidInput);
  EXPECT_NE(st.message().find("no key was agreed"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace grapevine::proto
