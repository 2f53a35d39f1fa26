// Frozen bytes written by protocol 1.0. If one of these tests fails, the schema
// or the codec changed in a way that breaks peers already deployed: ordinals are
// append-only (proto/grapevine.capnp) and the hash algorithm is part of the wire.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "proto/codec.h"
#include "proto/hash.h"

namespace grapevine::proto {
namespace {

std::vector<uint8_t> FromHex(const std::string& hex) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// Envelope{sender 5, incarnation 2, gossip [{3, "h:1", suspect, 9}],
//          Hello{1.0, id 5, inc 2, "127.0.0.1:7005", auth_required, nonce 00..1f}}
const char kHelloV1[] =
    "00000000140000000000000002000200faffffff000000000200000000000000"
    "050000001f00000014000000020002000400000002000100fcffffff01000000"
    "09000000000000000100000022000000683a31000000000001000200faffffff"
    "0200000000000000050000007a00000009000000020100003132372e302e302e"
    "313a373030350000000102030405060708090a0b0c0d0e0f1011121314151617"
    "18191a1b1c1d1e1f";

// Envelope{sender 1, ModelPayload{origin 1, version 7, round 3, values {1, -2.5, 0}}}
const char kModelV1[] =
    "00000000120000000000000002000200feffffff090000000000000000000000"
    "00000000000000000000000007000400feffffff000000000700000000000000"
    "030000000000000000000000000000000000000000000000d82d504678b03121"
    "00000000000000000d0000006200000000000000000000000000000000000000"
    "00000000000000000000803f000020c00000000000000000";

TEST(WireCompatTest, HelloFromVersion1Decodes) {
  auto env = Decode(FromHex(kHelloV1));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->sender, 5u);
  EXPECT_EQ(env->incarnation, 2u);
  ASSERT_EQ(env->gossip.size(), 1u);
  EXPECT_EQ(env->gossip[0], (MemberRecord{3, "h:1", MemberState::kSuspect, 9}));
  const auto& h = std::get<Hello>(env->body);
  EXPECT_EQ(h.major, 1);
  EXPECT_EQ(h.minor, 0);
  EXPECT_EQ(h.id, 5u);
  EXPECT_EQ(h.incarnation, 2u);
  EXPECT_EQ(h.listen_addr, "127.0.0.1:7005");
  EXPECT_FALSE(h.client);
  EXPECT_TRUE(h.auth_required);
  for (size_t i = 0; i < h.nonce.size(); ++i) EXPECT_EQ(h.nonce[i], i);
}

TEST(WireCompatTest, ModelPayloadFromVersion1Decodes) {
  auto env = Decode(FromHex(kModelV1));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  const auto& m = std::get<ModelPayload>(env->body);
  EXPECT_EQ(m.origin, 1u);
  EXPECT_EQ(m.purpose, ModelPurpose::kGossip);
  EXPECT_EQ(m.version, 7u);
  EXPECT_EQ(m.round, 3u);
  EXPECT_EQ(m.codec, TensorCodec::kFloat32);
  EXPECT_EQ(m.values, (std::vector<float>{1.0f, -2.5f, 0.0f}));
  EXPECT_TRUE(m.packed.empty());
  EXPECT_EQ(m.content_hash, 0x2131b07846502dd8ull);
  EXPECT_EQ(ContentHash(m.values), m.content_hash);  // XXH3-64 is part of the protocol
  EXPECT_EQ(m.push_weight, 1.0);  // written before the sgp weight existed
}

}  // namespace
}  // namespace grapevine::proto
