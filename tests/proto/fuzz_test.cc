// Seeded, bounded libFuzzer-style loop: random and mutated inputs through
// Decode and FrameDecoder. Passing means: no crash, no exception, no abort, and
// every failure is an InvalidInput status.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/envelope_frame.h"
#include "proto/framer.h"

namespace grapevine::proto {
namespace {

std::vector<std::vector<uint8_t>> Corpus() {
  std::vector<Envelope> envs(6);
  envs[0].body = Hello{1, 0, 3, 4, "127.0.0.1:7000", false, true, Nonce{}};
  envs[1].body = JoinReply{true, "", 5, {1, 2}, {{1, "a:1", MemberState::kAlive, 2}}, {{1, 2}}};
  ModelPayload m;
  m.values.assign(64, 0.5f);
  m.scales = {1.0f};
  envs[2].body = m;
  envs[3].body = StatusReply{1, "avg", {{1, "a", MemberState::kDead, 1, 2, 0.5, 3, 4}}, {{0, 1}}};
  envs[4].gossip = {{9, "g:9", MemberState::kSuspect, 9}};
  envs[4].body = MembershipUpdate{{{2, "b:2", MemberState::kLeft, 1}}, {{2, 3}}, {}, false, true};
  envs[5].body = CrossGradient{1, 2, 3, TensorCodec::kInt8, {}, {1, 2, 3}, {0.1f}};
  std::vector<std::vector<uint8_t>> out;
  for (const auto& e : envs) out.push_back(Encode(e).Flatten());
  return out;
}

void Mutate(std::vector<uint8_t>& b, std::mt19937& rng) {
  int edits = 1 + static_cast<int>(rng() % 8);
  for (int i = 0; i < edits && !b.empty(); ++i) {
    size_t pos = rng() % b.size();
    switch (rng() % 5) {
      case 0:
        b[pos] ^= static_cast<uint8_t>(1u << (rng() % 8));
        break;
      case 1:
        b[pos] = static_cast<uint8_t>(rng());
        break;
      case 2:
        b[pos] = (rng() % 2) ? 0xFF : 0x00;
        break;
      case 3:
        b.resize(pos & ~size_t{7});
        break;  // truncate on a word
      case 4:
        b.insert(b.begin() + static_cast<ptrdiff_t>(pos & ~size_t{7}), 8, 0xAB);
        break;
    }
  }
}

TEST(FuzzTest, DecodeSurvivesMutatedMessages) {
  auto corpus = Corpus();
  std::mt19937 rng(20261122);
  int decoded = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::vector<uint8_t> b = corpus[rng() % corpus.size()];
    Mutate(b, rng);
    auto r = Decode(b);
    if (r.ok()) {
      ++decoded;
      // Whatever decodes must re-encode (no UnknownKind) or be UnknownKind.
      if (!std::holds_alternative<UnknownKind>(r->body)) (void)Encode(*r);
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput) << r.status().ToString();
    }
  }
  // Mutations that leave the message valid exist; all-invalid would mean the
  // loop never exercised the reading code past the table.
  EXPECT_GT(decoded, 0);
}

TEST(FuzzTest, DecodeSurvivesRandomBytes) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 20000; ++iter) {
    std::vector<uint8_t> b(8 * (rng() % 32));
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (b.size() >= 8 && rng() % 2) {
      uint32_t table[2] = {0, static_cast<uint32_t>(b.size() / 8 - 1)};
      std::memcpy(b.data(), table, 8);
    }
    auto r = Decode(b);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
    }
  }
}

TEST(FuzzTest, FrameDecoderSurvivesMutatedStreams) {
  auto corpus = Corpus();
  std::vector<uint8_t> stream;
  for (const auto& payload : corpus) {
    auto h = EncodeFrameHeader({kProtocolMajor, 0, 0, static_cast<uint32_t>(payload.size())});
    stream.insert(stream.end(), h.begin(), h.end());
    stream.insert(stream.end(), payload.begin(), payload.end());
  }
  std::mt19937 rng(99);
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> s = stream;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < edits; ++i) s[rng() % s.size()] = static_cast<uint8_t>(rng());
    FrameDecoder dec(4096);
    size_t pos = 0;
    Status st;
    while (pos < s.size() && st.ok()) {
      size_t n = std::min<size_t>(s.size() - pos, 1 + rng() % 300);
      st = dec.Feed(std::span<const uint8_t>(s).subspan(pos, n));
      pos += n;
    }
    while (auto f = dec.Next()) {
      EXPECT_LE(f->payload.size(), 4096u);
      auto r = OpenFrame(std::move(*f));
      if (!r.ok()) {
        EXPECT_NE(r.status().code(), StatusCode::kInternal);
      }
    }
    EXPECT_LE(dec.buffered_bytes(), kFrameHeaderBytes + 4096 + kMacBytes);
  }
}

// Authenticated streams: any mutated byte of a MACed frame, header included, ends the
// stream with an error (never a frame that decodes to something else).
TEST(FuzzTest, MacedStreamRejectsEveryMutation) {
  auto corpus = Corpus();
  const Secret secret{std::vector<uint8_t>(32, 5)};
  const Nonce a{}, b = RandomNonce();
  std::mt19937 rng(4242);
  for (int iter = 0; iter < 500; ++iter) {
    FrameStages tx = MacStages(secret, a, b, true);
    FrameStages rx = MacStages(secret, a, b, false);
    const auto& payload = corpus[rng() % corpus.size()];
    std::vector<uint8_t> wire = FlattenFrame(Encode(*Decode(payload)), tx.sealer.get());
    const size_t pos = rng() % wire.size();
    wire[pos] ^= static_cast<uint8_t>(1 + rng() % 255);
    FrameDecoder dec(4096);
    dec.set_opener(rx.opener.get());
    Status st = dec.Feed(wire);
    if (st.ok()) st = dec.Finish();  // a shortened length leaves the frame incomplete
    EXPECT_FALSE(st.ok()) << "mutation at byte " << pos << " went unnoticed";
    EXPECT_NE(st.code(), StatusCode::kInternal);
    EXPECT_FALSE(dec.Next().has_value()) << "mutation at byte " << pos;
  }
}

}  // namespace
}  // namespace grapevine::proto
