#include "proto/codec.h"

#include <capnp/message.h>
#include <capnp/schema.h>
#include <capnp/serialize.h>
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <tuple>

#include "proto/grapevine.capnp.h"
#include "proto/hash.h"

namespace grapevine::proto {

// Field-by-field equality for the round-trip checks (messages.h keeps its structs
// free of operators it does not need).
auto Tie(const Hello& m) {
  return std::tie(m.major, m.minor, m.id, m.incarnation, m.listen_addr, m.client, m.auth_required,
                  m.nonce);
}
auto Tie(const AuthProof& m) { return std::tie(m.mac); }
auto Tie(const AuthResult& m) { return std::tie(m.ok, m.reason); }
auto Tie(const JoinRequest& m) { return std::tie(m.listen_addr, m.arch_fingerprint); }
auto Tie(const JoinReply& m) {
  return std::tie(m.accepted, m.reason, m.assigned_id, m.neighbours, m.members, m.edges);
}
auto Tie(const MembershipUpdate& m) {
  return std::tie(m.members, m.edges_added, m.edges_removed, m.full_state, m.reply_wanted);
}
auto Tie(const Ping& m) { return std::tie(m.seq, m.target, m.requester); }
auto Tie(const Ack& m) { return std::tie(m.seq, m.target); }
auto Tie(const ModelRequest& m) { return std::tie(m.purpose); }
auto Tie(const ModelPayload& m) {
  return std::tie(m.origin, m.purpose, m.version, m.round, m.samples_seen, m.arch_fingerprint,
                  m.content_hash, m.train_loss, m.codec, m.values, m.packed, m.scales, m.extra,
                  m.frame, m.push_weight);
}
auto Tie(const CrossGradient& m) {
  return std::tie(m.origin, m.version, m.content_hash, m.codec, m.values, m.packed, m.scales);
}
auto Tie(const StatusRequest&) { return std::tie(); }
auto Tie(const NodeStatus& m) {
  return std::tie(m.id, m.addr, m.state, m.incarnation, m.round, m.last_accuracy, m.bytes_in,
                  m.bytes_out);
}
bool operator==(const NodeStatus& a, const NodeStatus& b) { return Tie(a) == Tie(b); }
auto Tie(const StatusReply& m) { return std::tie(m.self, m.algo, m.nodes, m.edges); }
auto Tie(const Bye& m) { return std::tie(m.reason); }
auto Tie(const Unimplemented& m) { return std::tie(m.kind); }
auto Tie(const UnknownKind& m) { return std::tie(m.kind); }

namespace {

bool SameBody(const Body& a, const Body& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        return Tie(x) == Tie(std::get<T>(b));
      },
      a);
}

std::vector<float> Floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

Nonce FilledNonce(uint8_t start) {
  Nonce n{};
  for (size_t i = 0; i < n.size(); ++i) n[i] = static_cast<uint8_t>(start + 3 * i);
  return n;
}

std::vector<MemberRecord> Members() {
  return {{0, "10.0.0.1:7000", MemberState::kAlive, 3},
          {7, "node-7.example:7007", MemberState::kSuspect, 12},
          {4000000000u, "", MemberState::kDead, 1ull << 40},
          {9, "[::1]:9", MemberState::kLeft, 0}};
}

std::vector<Body> AllKinds() {
  std::vector<Body> bodies;
  bodies.push_back(Hello{1, 4, 17, 99, "127.0.0.1:7017", false, true, FilledNonce(1)});
  bodies.push_back(Hello{1, 0, kNoNode, 0, "", true, false, FilledNonce(200)});
  bodies.push_back(AuthProof{FilledNonce(42)});
  bodies.push_back(AuthResult{false, "authentication failed"});
  bodies.push_back(JoinRequest{"10.1.2.3:7100", 0xDEADBEEFCAFEF00Dull});
  bodies.push_back(
      JoinReply{true, "", 23, {1, 5, 9}, Members(), {{1, 5}, {5, 9}, {0, 4000000000u}}});
  bodies.push_back(JoinReply{false, "architecture mismatch", kNoNode, {}, {}, {}});
  bodies.push_back(MembershipUpdate{Members(), {{2, 3}}, {{3, 4}, {0, 1}}, true, true});
  bodies.push_back(Ping{1ull << 50, 12, 34});
  bodies.push_back(Ack{77, 12});
  bodies.push_back(ModelRequest{ModelPurpose::kCrossGradient});
  {
    ModelPayload m;
    m.origin = 5;
    m.purpose = ModelPurpose::kStateTransfer;
    m.version = 1234;
    m.round = 56;
    m.samples_seen = 789012;
    m.arch_fingerprint = 0x0123456789ABCDEFull;
    m.values = Floats(1000, 1);
    m.content_hash = ContentHash(m.values);
    m.train_loss = 0.4375f;
    m.extra = Floats(10, 2);
    m.frame = 3;
    bodies.push_back(m);
    ModelPayload share;  // sgp: a push-sum share carries its weight
    share.origin = 7;
    share.purpose = ModelPurpose::kPushShare;
    share.values = Floats(12, 4);
    share.push_weight = 0.1875;
    bodies.push_back(share);
    ModelPayload snapshot;  // daso: a global-tier snapshot with the sender's loss
    snapshot.origin = 8;
    snapshot.purpose = ModelPurpose::kDasoSnapshot;
    snapshot.round = 4096;
    snapshot.train_loss = 0.8125f;
    snapshot.values = Floats(20, 5);
    bodies.push_back(snapshot);
    ModelPayload c;
    c.origin = 6;
    c.codec = TensorCodec::kInt8;
    c.packed = {1, 2, 3, 255, 0, 128, 7};
    c.scales = {0.5f, 0.25f, -1.0f};
    bodies.push_back(c);
  }
  bodies.push_back(
      CrossGradient{3, 44, 0xFEEDull, TensorCodec::kTopK, {}, {9, 8, 7, 6, 5, 4, 3, 2}, {2.0f}});
  bodies.push_back(CrossGradient{4, 45, 0xBEEFull, TensorCodec::kFloat32, Floats(333, 3), {}, {}});
  bodies.push_back(StatusRequest{});
  bodies.push_back(StatusReply{2,
                               "dimat",
                               {{2, "a:1", MemberState::kAlive, 5, 10, 0.875, 1000, 2000},
                                {3, "b:2", MemberState::kSuspect, 6, 11, -1.0, 0, 0}},
                               {{2, 3}}});
  bodies.push_back(Bye{"shutting down"});
  bodies.push_back(Unimplemented{18});
  return bodies;
}

Envelope Wrap(Body body) {
  Envelope e;
  e.sender = 11;
  e.incarnation = 1ull << 33;
  e.gossip = {{3, "x:3", MemberState::kSuspect, 8}};
  e.body = std::move(body);
  return e;
}

TEST(CodecTest, EveryKindRoundTrips) {
  std::vector<bool> seen(std::variant_size_v<Body>, false);
  for (const Body& body : AllKinds()) {
    Envelope in = Wrap(body);
    EncodedMessage msg = Encode(in);
    ASSERT_EQ(msg.size() % 8, 0u);
    std::vector<uint8_t> flat = msg.Flatten();
    ASSERT_EQ(flat.size(), msg.size());
    Result<Envelope> out = Decode(flat);
    ASSERT_TRUE(out.ok()) << KindName(KindOf(body)) << ": " << out.status().ToString();
    EXPECT_EQ(out->sender, in.sender);
    EXPECT_EQ(out->incarnation, in.incarnation);
    EXPECT_EQ(out->gossip, in.gossip);
    EXPECT_TRUE(SameBody(out->body, in.body)) << KindName(KindOf(body));
    seen[body.index()] = true;
  }
  for (size_t i = 0; i + 1 < seen.size(); ++i) EXPECT_TRUE(seen[i]) << "kind " << KindName(i);
}

TEST(CodecTest, DefaultEnvelopeRoundTrips) {
  Envelope in;  // Hello with kNoNode everywhere
  auto out = Decode(Encode(in).Flatten());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->sender, kNoNode);
  EXPECT_TRUE(SameBody(out->body, in.body));
}

TEST(CodecTest, LargeModelPayloadRoundTripsInFewPieces) {
  ModelPayload m;
  m.origin = 1;
  m.values = Floats(1 << 20, 7);
  m.content_hash = ContentHash(m.values);
  EncodedMessage msg = Encode(Wrap(m));
  EXPECT_GT(msg.size(), m.values.size() * 4);
  EXPECT_LE(msg.Pieces().size(), 3u);  // table + one segment (+ one spill at most)
  auto out = Decode(msg.Flatten());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& got = std::get<ModelPayload>(out->body);
  EXPECT_EQ(got.values, m.values);
  EXPECT_EQ(ContentHash(got.values), m.content_hash);
}

bool PointsInto(const EncodedMessage& msg, const void* data) {
  for (auto piece : msg.Pieces()) {
    if (static_cast<const void*>(piece.data()) == data) return true;
  }
  return false;
}

TEST(CodecTest, MovedEnvelopeReferencesBigArraysWithoutCopy) {
  ModelPayload m;
  m.origin = 2;
  m.values = Floats(1 << 18, 8);  // 1 MiB, even length
  m.scales = {0.5f};
  const std::vector<float> expected = m.values.ToVector();
  const float* buffer = m.values.data();
  EncodedMessage msg = Encode(Wrap(std::move(m)));
  EXPECT_TRUE(PointsInto(msg, buffer));  // written straight from the vector
  ModelPayload same;
  same.values = expected;
  const Envelope kept = Wrap(same);  // an lvalue: Encode(const&) copies
  EXPECT_FALSE(PointsInto(Encode(kept), std::get<ModelPayload>(kept.body).values.data()));
  auto out = Decode(msg.Flatten());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& got = std::get<ModelPayload>(out->body);
  EXPECT_EQ(got.values, expected);
  EXPECT_EQ(got.scales, std::vector<float>{0.5f});
  EXPECT_EQ(got.origin, 2u);
}

TEST(CodecTest, MovedEnvelopeCopiesOddOrSmallArrays) {
  for (size_t n : {size_t{(1 << 18) + 1}, size_t{100}}) {
    CrossGradient g;
    g.values = Floats(n, 9);
    const std::vector<float> expected = g.values.ToVector();
    const float* buffer = g.values.data();
    EncodedMessage msg = Encode(Wrap(std::move(g)));
    EXPECT_FALSE(PointsInto(msg, buffer)) << n;  // never expose bytes past the end
    auto out = Decode(msg.Flatten());
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(std::get<CrossGradient>(out->body).values, expected);
  }
}

TEST(CodecTest, MultiSegmentMessageDecodes) {
  // Many small members overflow the first-segment estimate -> several segments.
  MembershipUpdate u;
  for (uint32_t i = 0; i < 20000; ++i) {
    u.members.push_back({i, std::string(100, 'h') + std::to_string(i) + ".example.org:7000",
                         MemberState::kAlive, i * 3ull});
  }
  EncodedMessage msg = Encode(Wrap(u));
  EXPECT_GT(msg.Pieces().size(), 2u);
  auto out = Decode(msg.Flatten());
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(std::get<MembershipUpdate>(out->body).members, u.members);
}

TEST(CodecTest, UnalignedInputStillDecodes) {
  auto flat = Encode(Wrap(Bye{"unaligned"})).Flatten();
  std::vector<uint8_t> shifted(flat.size() + 1);
  std::memcpy(shifted.data() + 1, flat.data(), flat.size());
  auto out = Decode(std::span<const uint8_t>(shifted).subspan(1));
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(std::get<Bye>(out->body).reason, "unaligned");
}

TEST(CodecTest, EmptyInputIsInvalid) {
  auto r = Decode({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
}

TEST(CodecTest, SizeNotMultipleOfEightIsInvalid) {
  std::vector<uint8_t> b(13, 0);
  EXPECT_FALSE(Decode(b).ok());
}

TEST(CodecTest, TruncatedMessagesAreInvalid) {
  ModelPayload m;
  m.values = Floats(100, 5);
  auto flat = Encode(Wrap(m)).Flatten();
  for (size_t n = 0; n < flat.size(); n += 8) {
    auto r = Decode(std::span<const uint8_t>(flat.data(), n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes";
  }
}

TEST(CodecTest, HugeSegmentTableIsInvalid) {
  auto flat = Encode(Wrap(Ping{1, 2, 3})).Flatten();
  auto claims = [&](uint32_t count_minus_1, uint32_t size0) {
    std::vector<uint8_t> b = flat;
    std::memcpy(b.data(), &count_minus_1, 4);
    std::memcpy(b.data() + 4, &size0, 4);
    return Decode(b);
  };
  auto r1 = claims(0, 0xFFFFFFFFu);  // one segment of 32 GiB
  ASSERT_FALSE(r1.ok());
  EXPECT_NE(r1.status().message().find("segment table"), std::string::npos);
  auto r2 = claims(0xFFFFFFFFu, 1);  // 2^32 segments (count wraps in naive readers)
  EXPECT_FALSE(r2.ok());
  auto r3 = claims(600, 1);  // more segments than allowed
  ASSERT_FALSE(r3.ok());
  EXPECT_NE(r3.status().message().find("segments"), std::string::npos);
}

TEST(CodecTest, GarbageNeverCrashes) {
  for (uint32_t seed = 0; seed < 2000; ++seed) {
    std::mt19937 rng(seed);
    size_t words = 1 + rng() % 64;
    std::vector<uint8_t> b(words * 8);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    if (seed % 2 == 0) {  // keep a plausible single-segment table so capnp gets to parse
      uint32_t table[2] = {0, static_cast<uint32_t>(words - 1)};
      std::memcpy(b.data(), table, 8);
    }
    auto r = Decode(b);
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput);
    }
  }
}

TEST(CodecTest, WrongSizedNonceIsInvalid) {
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.getBody().initHello().initNonce(5);
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  auto r = Decode(std::span<const uint8_t>(bytes.begin(), bytes.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nonce"), std::string::npos) << r.status().message();
}

TEST(CodecTest, FloatBlobWithOddSizeIsInvalid) {
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.getBody().initModelPayload().initValues(6);
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  EXPECT_FALSE(Decode(std::span<const uint8_t>(bytes.begin(), bytes.size())).ok());
}

// Overwrites the union discriminant of Envelope.body, as a newer peer with an
// extra union member would have written it.
std::vector<uint8_t> WithDiscriminant(uint16_t which) {
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.setSender(42);
  env.getBody().initBye().setReason("irrelevant");
  auto group = capnp::Schema::from<schema::Envelope::Body>().getProto().getStruct();
  uint32_t offset = group.getDiscriminantOffset();  // in 16-bit units of the data section
  auto data = mb.getRoot<capnp::AnyStruct>().getDataSection();
  EXPECT_GE(data.size(), 2 * offset + 2);
  data[2 * offset] = static_cast<capnp::byte>(which & 0xFF);
  data[2 * offset + 1] = static_cast<capnp::byte>(which >> 8);
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

TEST(CodecTest, UnknownUnionMemberDecodesToUnknownKind) {
  auto known = Decode(WithDiscriminant(KindOf(Bye{})));
  ASSERT_TRUE(known.ok()) << known.status().ToString();
  EXPECT_TRUE(std::holds_alternative<Bye>(known->body));  // the patching itself is right

  auto r = Decode(WithDiscriminant(999));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->sender, 42u);
  ASSERT_TRUE(std::holds_alternative<UnknownKind>(r->body));
  EXPECT_EQ(std::get<UnknownKind>(r->body).kind, 999);
  EXPECT_EQ(KindOf(r->body), 999);
  EXPECT_EQ(KindName(999), "kind#999");
}

// A ModelPayload as an agent from before the push-sum weight wrote it: its data
// section ends where pushWeight (the newest data field) begins. It reads as weight 1.
TEST(CodecTest, ModelWithoutPushWeightReadsAsWeightOne) {
  const auto schema = capnp::Schema::from<schema::ModelPayload>().getProto().getStruct();
  uint32_t weight_word = 0;
  for (auto field : capnp::Schema::from<schema::ModelPayload>().getFields()) {
    if (field.getProto().getName() == "pushWeight") {
      weight_word = field.getProto().getSlot().getOffset();  // in Float64 units = words
    }
  }
  ASSERT_GT(weight_word, 0u);
  // Appended after everything but the compressed-payload fields (codecParam, codecSeed),
  // which an old section lacks too.
  ASSERT_LT(weight_word, schema.getDataWordCount());
  uint32_t payload_pointer = 0;  // Envelope.body.modelPayload's slot in Envelope's pointers
  for (auto field : capnp::Schema::from<schema::Envelope::Body>().getFields()) {
    if (field.getProto().getName() == "modelPayload") {
      payload_pointer = field.getProto().getSlot().getOffset();
    }
  }
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.getBody().initModelPayload();  // the union's discriminant
  auto old = capnp::AnyStruct::Builder(schema::Envelope::Builder(env)).getPointerSection()[payload_pointer].initAsAnyStruct(
      static_cast<uint16_t>(weight_word), schema.getPointerCount());
  ASSERT_EQ(old.getDataSection().size(), weight_word * 8u);
  old.as<schema::ModelPayload>().setOrigin(9);  // offset 0: inside the old section
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  auto r = Decode(std::span<const uint8_t>(bytes.begin(), bytes.size()));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const auto& m = std::get<ModelPayload>(r->body);
  EXPECT_EQ(m.origin, 9u);
  EXPECT_EQ(m.push_weight, 1.0);
  EXPECT_EQ(m.frame, kNoNode);  // the other defaulted fields still read as their defaults
}

TEST(CodecTest, UnknownEnumValueIsInvalid) {
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.getBody().initModelPayload().setCodec(static_cast<schema::TensorCodec>(40));
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  auto r = Decode(std::span<const uint8_t>(bytes.begin(), bytes.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("tensor codec"), std::string::npos) << r.status().message();
}

TEST(CodecTest, PurposePastTheLastIsInvalid) {
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.getBody().initModelPayload().setPurpose(
      static_cast<schema::ModelPurpose>(static_cast<int>(ModelPurpose::kDasoSnapshot) + 1));
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  auto r = Decode(std::span<const uint8_t>(bytes.begin(), bytes.size()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model purpose"), std::string::npos) << r.status().message();
}

TEST(CodecTest, AmplifiedListIsBounded) {
  // A list of 2^19 zero-sized structs costs 8 bytes on the wire; the traversal
  // limit (not just the list-length cap) must refuse it rather than allocate
  // 2^19 MemberRecords.
  capnp::MallocMessageBuilder mb;
  auto env = mb.initRoot<schema::Envelope>();
  env.initGossip(3);
  auto words = capnp::messageToFlatArray(mb);
  auto bytes = words.asBytes();
  std::vector<uint8_t> b(bytes.begin(), bytes.end());
  // Find the tag word of the inline-composite list (element count 3, data 2 words,
  // pointers 1) and rewrite it to claim 2^28 elements of size zero.
  bool patched = false;
  for (size_t off = 8; off + 8 <= b.size(); off += 8) {
    uint64_t w;
    std::memcpy(&w, b.data() + off, 8);
    uint64_t tag = (uint64_t{3} << 2) | (uint64_t{2} << 32) | (uint64_t{1} << 48);
    if (w == tag) {
      uint64_t fake = uint64_t{1} << 19 << 2;
      std::memcpy(b.data() + off, &fake, 8);
      patched = true;
      break;
    }
  }
  ASSERT_TRUE(patched);
  auto r = Decode(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("traversal limit"), std::string::npos)
      << r.status().message();
}

// Decode(payload, block): a big model's values view the payload in place and keep
// the block alive; small arrays are copied; the result equals the copying Decode.
TEST(CodecTest, BlockDecodeViewsBigValuesInPlace) {
  ModelPayload m;
  m.origin = 3;
  m.values = Floats(1 << 18, 11);  // 1 MiB
  m.scales = Floats(3, 12);
  m.extra = Floats(1 << 17, 13);   // big, but only `values` is ever viewed
  const std::vector<uint8_t> wire = Encode(Wrap(m)).Flatten();
  auto block = std::make_shared<std::vector<uint8_t>>(wire);
  uint8_t* const base = block->data();
  const size_t size = block->size();

  auto out = Decode(std::span<uint8_t>(base, size), block);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(block.use_count(), 2);  // the decoded values share it
  auto& got = std::get<ModelPayload>(out->body);
  EXPECT_TRUE(got.values.is_view());
  const auto* first = reinterpret_cast<const uint8_t*>(got.values.data());
  EXPECT_GE(first, base);
  EXPECT_LE(first + 4 * got.values.size(), base + size);
  EXPECT_EQ(got.values, m.values);
  EXPECT_EQ(got.extra, m.extra);
  EXPECT_EQ(got.scales, m.scales);
  auto copied = Decode(wire);
  ASSERT_TRUE(copied.ok());
  EXPECT_TRUE(SameBody(copied->body, out->body));
  EXPECT_FALSE(std::get<ModelPayload>(copied->body).values.is_view());

  // The view is the array's own range: writes land in the block, a copy is deep.
  got.values[0] = 42.0f;
  float stored;
  std::memcpy(&stored, first, 4);
  EXPECT_EQ(stored, 42.0f);
  FloatArray copy = got.values;
  EXPECT_FALSE(copy.is_view());
  copy[1] = -1.0f;
  EXPECT_EQ(got.values[1], m.values[1]);

  FloatArray moved = std::move(got.values);
  EXPECT_TRUE(moved.is_view());
  EXPECT_TRUE(got.values.empty());  // moved out: only `moved` holds the block now
  EXPECT_EQ(block.use_count(), 2);
  moved.clear();
  EXPECT_EQ(block.use_count(), 1);
}

TEST(CodecTest, BlockDecodeCopiesSmallValuesAndUnalignedPayloads) {
  CrossGradient g;
  g.values = Floats(100, 14);  // below the view threshold
  std::vector<uint8_t> wire = Encode(Wrap(g)).Flatten();
  auto block = std::make_shared<std::vector<uint8_t>>(wire);
  auto out = Decode(std::span<uint8_t>(*block), block);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_FALSE(std::get<CrossGradient>(out->body).values.is_view());
  EXPECT_EQ(block.use_count(), 1);

  g.values = Floats(1 << 18, 15);
  wire = Encode(Wrap(g)).Flatten();
  auto shifted = std::make_shared<std::vector<uint8_t>>(wire.size() + 1);
  std::memcpy(shifted->data() + 1, wire.data(), wire.size());  // odd address
  out = Decode(std::span<uint8_t>(shifted->data() + 1, wire.size()), shifted);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  const auto& got = std::get<CrossGradient>(out->body);
  EXPECT_FALSE(got.values.is_view());  // decoded from an aligned copy
  EXPECT_EQ(got.values, g.values);
  EXPECT_EQ(shifted.use_count(), 1);
}

TEST(CodecTest, BlockDecodeRejectsWhatDecodeRejects) {
  ModelPayload m;
  m.values = Floats(1 << 18, 16);
  std::vector<uint8_t> wire = Encode(Wrap(m)).Flatten();
  wire.resize(wire.size() - 8);  // truncated
  auto block = std::make_shared<std::vector<uint8_t>>(wire);
  auto out = Decode(std::span<uint8_t>(*block), block);
  EXPECT_FALSE(out.ok());
  EXPECT_FALSE(Decode(wire).ok());
  EXPECT_EQ(block.use_count(), 1);
}

TEST(CodecTest, KindNames) {
  EXPECT_EQ(KindName(KindOf(Hello{})), "hello");
  EXPECT_EQ(KindName(KindOf(ModelPayload{})), "modelPayload");
  EXPECT_EQ(KindName(KindOf(Unimplemented{})), "unimplemented");
}

}  // namespace
}  // namespace grapevine::proto
