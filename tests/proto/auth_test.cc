#include "proto/auth.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "proto/envelope_frame.h"

namespace grapevine::proto {
namespace {

Secret MakeSecret(const std::string& s) { return Secret{std::vector<uint8_t>(s.begin(), s.end())}; }

const Secret kSecret = MakeSecret("correct horse battery staple");
const Secret kOther = MakeSecret("correct horse battery stapler");

Nonce Filled(uint8_t v) {
  Nonce n{};
  n.fill(v);
  n[0] = static_cast<uint8_t>(v + 1);
  return n;
}

TEST(AuthProofTest, ValidProofVerifies) {
  Nonce mine = Filled(1), theirs = Filled(2);
  Mac proof = AuthProofFor(kSecret, /*peer_nonce=*/mine, /*my_nonce=*/theirs, /*my_id=*/7);
  EXPECT_TRUE(VerifyAuthProof(kSecret, mine, theirs, 7, proof));
}

TEST(AuthProofTest, WrongSecretFails) {
  Nonce mine = Filled(1), theirs = Filled(2);
  Mac proof = AuthProofFor(kOther, mine, theirs, 7);
  EXPECT_FALSE(VerifyAuthProof(kSecret, mine, theirs, 7, proof));
}

TEST(AuthProofTest, BindsNoncesAndId) {
  Nonce mine = Filled(1), theirs = Filled(2);
  Mac proof = AuthProofFor(kSecret, mine, theirs, 7);
  EXPECT_FALSE(VerifyAuthProof(kSecret, mine, theirs, 8, proof));       // other id
  EXPECT_FALSE(VerifyAuthProof(kSecret, Filled(3), theirs, 7, proof));  // other challenge
  EXPECT_FALSE(VerifyAuthProof(kSecret, mine, Filled(4), 7, proof));    // other peer nonce
  EXPECT_FALSE(VerifyAuthProof(kSecret, theirs, mine, 7, proof));       // swapped roles
  Mac flipped = proof;
  flipped[31] ^= 1;
  EXPECT_FALSE(VerifyAuthProof(kSecret, mine, theirs, 7, flipped));
}

TEST(AuthProofTest, EchoedNonceIsRejected) {
  // A peer that copies my nonce into its Hello could reflect my own proof back.
  Nonce mine = Filled(5);
  Mac my_proof = AuthProofFor(kSecret, mine, mine, 7);
  EXPECT_FALSE(VerifyAuthProof(kSecret, mine, mine, 7, my_proof));
}

TEST(AuthProofTest, RandomNoncesDiffer) { EXPECT_NE(RandomNonce(), RandomNonce()); }

// ---- frame MACs ----------------------------------------------------------------------

struct Pair {
  FrameAuthenticator initiator{kSecret, Filled(10), Filled(20), true};
  FrameAuthenticator acceptor{kSecret, Filled(10), Filled(20), false};
};

std::vector<uint8_t> Payload(uint8_t v) { return std::vector<uint8_t>(40, v); }

FrameMac SignOne(FrameAuthenticator& a, std::span<const uint8_t> header,
            const std::vector<uint8_t>& payload) {
  return a.Sign(header, {std::span<const uint8_t>(payload)});
}

TEST(FrameAuthTest, BothDirectionsVerifyInOrder) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  for (uint8_t i = 0; i < 5; ++i) {
    FrameMac m = SignOne(p.initiator, header, Payload(i));
    EXPECT_TRUE(p.acceptor.Verify(header, Payload(i), m)) << int(i);
    FrameMac back = SignOne(p.acceptor, header, Payload(i));
    EXPECT_TRUE(p.initiator.Verify(header, Payload(i), back)) << int(i);
  }
  EXPECT_EQ(p.initiator.sent_frames(), 5u);
  EXPECT_EQ(p.acceptor.received_frames(), 5u);
}

TEST(FrameAuthTest, PiecesAreConcatenated) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  auto whole = Payload(9);
  std::span<const uint8_t> s(whole);
  FrameMac m = p.initiator.Sign(header, {s.subspan(0, 8), s.subspan(8, 0), s.subspan(8)});
  EXPECT_TRUE(p.acceptor.Verify(header, whole, m));
}

// The streaming forms (used while a model's bytes move) give the same MACs as the
// one-call forms, whatever the chunking, and keep their sequence rules.
TEST(FrameAuthTest, StreamingEqualsOneCall) {
  Pair one, streamed;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 1000});
  std::vector<uint8_t> payload(1000);
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<uint8_t>(i * 31 + 7);
  std::span<const uint8_t> s(payload);
  for (int frame = 0; frame < 3; ++frame) {
    FrameMac whole = SignOne(one.initiator, header, payload);
    streamed.initiator.BeginSign(header);
    streamed.initiator.UpdateSign(s.subspan(0, 1));
    streamed.initiator.UpdateSign(s.subspan(1, 0));
    streamed.initiator.UpdateSign(s.subspan(1, 600));
    streamed.initiator.UpdateSign(s.subspan(601));
    EXPECT_EQ(streamed.initiator.FinishSign(), whole) << frame;

    streamed.acceptor.BeginVerify(header);
    for (size_t off = 0; off < payload.size(); off += 128) {
      streamed.acceptor.UpdateVerify(s.subspan(off, std::min<size_t>(128, payload.size() - off)));
    }
    EXPECT_TRUE(streamed.acceptor.FinishVerify(whole)) << frame;
  }
  EXPECT_EQ(streamed.initiator.sent_frames(), 3u);
  EXPECT_EQ(streamed.acceptor.received_frames(), 3u);
}

TEST(FrameAuthTest, StreamingVerifyRejectsTamperingAndAbandonsCleanly) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  auto payload = Payload(5);
  FrameMac m = SignOne(p.initiator, header, payload);
  std::span<const uint8_t> s(payload);

  p.acceptor.BeginVerify(header);  // abandoned half-way (e.g. the peer went away)
  p.acceptor.UpdateVerify(s.subspan(0, 20));
  auto tampered = payload;
  tampered[30] ^= 1;
  p.acceptor.BeginVerify(header);  // starts over at the same sequence number
  p.acceptor.UpdateVerify(std::span<const uint8_t>(tampered).subspan(0, 20));
  p.acceptor.UpdateVerify(std::span<const uint8_t>(tampered).subspan(20));
  EXPECT_FALSE(p.acceptor.FinishVerify(m));
  EXPECT_EQ(p.acceptor.received_frames(), 0u);
  p.acceptor.BeginVerify(header);
  p.acceptor.UpdateVerify(s);
  EXPECT_TRUE(p.acceptor.FinishVerify(m));
}

// The frame MAC is exactly the construction docs/protocol.md specifies, recomputed
// here with plain OpenSSL calls: K = HMAC(secret, "grapevine frame key v1" | dir | a | b),
// k_n = HMAC(K, "grapevine frame one-time key v1" | u64le(n)),
// tag = Poly1305(k_n, header | payload).
std::vector<uint8_t> RawMac(const char* name, std::span<const uint8_t> key,
                            const std::vector<std::vector<uint8_t>>& parts) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, name, nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  char digest[] = "SHA256";
  OSSL_PARAM hmac_params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_end()};
  const bool hmac = std::string(name) == "HMAC";
  EXPECT_EQ(EVP_MAC_init(ctx, key.data(), key.size(), hmac ? hmac_params : nullptr), 1);
  for (const auto& p : parts) EVP_MAC_update(ctx, p.data(), p.size());
  std::vector<uint8_t> out(64);
  size_t len = 0;
  EVP_MAC_final(ctx, out.data(), &len, out.size());
  out.resize(len);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return out;
}

std::vector<uint8_t> Str(const std::string& s) { return {s.begin(), s.end()}; }

TEST(FrameAuthTest, MatchesTheSpecifiedConstruction) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, kProtocolMinor, kFlagMac, 40});
  const Nonce a = Filled(10), b = Filled(20);
  auto k = RawMac("HMAC", kSecret.bytes,
                  {Str("grapevine frame key v1"), {1}, {a.begin(), a.end()}, {b.begin(), b.end()}});
  ASSERT_EQ(k.size(), 32u);
  for (uint8_t n = 0; n < 2; ++n) {
    auto one_time =
        RawMac("HMAC", k, {Str("grapevine frame one-time key v1"), {n, 0, 0, 0, 0, 0, 0, 0}});
    auto tag = RawMac("POLY1305", one_time, {{header.begin(), header.end()}, Payload(n)});
    ASSERT_EQ(tag.size(), kMacBytes);
    FrameMac got = SignOne(p.initiator, header, Payload(n));
    EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.end()), tag) << int(n);
  }
}

TEST(FrameAuthTest, TamperedFrameFails) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  auto payload = Payload(3);
  FrameMac m = SignOne(p.initiator, header, payload);
  payload[17] ^= 0x40;
  EXPECT_FALSE(p.acceptor.Verify(header, payload, m));
  auto other_header = EncodeFrameHeader({kProtocolMajor, 1, kFlagMac, 40});
  EXPECT_FALSE(p.acceptor.Verify(other_header, Payload(3), m));
  EXPECT_EQ(p.acceptor.received_frames(), 0u);
  EXPECT_TRUE(p.acceptor.Verify(header, Payload(3), m));  // untampered still fine
}

TEST(FrameAuthTest, ReplayedFrameFails) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  FrameMac first = SignOne(p.initiator, header, Payload(1));
  FrameMac second = SignOne(p.initiator, header, Payload(1));  // same bytes, next seq
  EXPECT_NE(first, second);
  ASSERT_TRUE(p.acceptor.Verify(header, Payload(1), first));
  EXPECT_FALSE(p.acceptor.Verify(header, Payload(1), first));  // replay of seq 0
  EXPECT_TRUE(p.acceptor.Verify(header, Payload(1), second));
}

TEST(FrameAuthTest, ReflectedFrameFails) {
  Pair p;
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  FrameMac m = SignOne(p.initiator, header, Payload(1));
  EXPECT_FALSE(p.initiator.Verify(header, Payload(1), m));  // sent back to its author
}

TEST(FrameAuthTest, OtherConnectionOrSecretFails) {
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  FrameAuthenticator sender(kSecret, Filled(10), Filled(20), true);
  FrameAuthenticator wrong_nonce(kSecret, Filled(10), Filled(21), false);
  FrameAuthenticator wrong_secret(kOther, Filled(10), Filled(20), false);
  FrameMac m = SignOne(sender, header, Payload(1));
  EXPECT_FALSE(wrong_nonce.Verify(header, Payload(1), m));
  EXPECT_FALSE(wrong_secret.Verify(header, Payload(1), m));
}

// ---- the MAC as a frame stage (MacStages), through FrameEncoder / FrameDecoder ---------

struct StagePair {
  FrameStages initiator = MacStages(kSecret, Filled(10), Filled(20), true);
  FrameStages acceptor = MacStages(kSecret, Filled(10), Filled(20), false);
};

TEST(MacStageTest, SignedFrameRoundTripsThroughDecoder) {
  StagePair p;
  Envelope env;
  env.sender = 3;
  env.body = Bye{"done"};
  std::vector<uint8_t> wire = FlattenFrame(Encode(env), p.initiator.sealer.get());
  FrameDecoder dec;
  dec.set_opener(p.acceptor.opener.get());
  ASSERT_TRUE(dec.Feed(wire).ok());
  auto frame = dec.Next();
  ASSERT_TRUE(frame.has_value());
  EXPECT_TRUE(frame->header.flags & kFlagMac);
  EXPECT_EQ(wire.size(), kFrameHeaderBytes + frame->payload.size() + kMacBytes);
  auto got = OpenFrame(std::move(*frame));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::get<Bye>(got->body).reason, "done");
  // The same frame again is a replay.
  Status replay = dec.Feed(wire);
  EXPECT_EQ(replay.code(), StatusCode::kAuthFailed) << replay.ToString();
  EXPECT_FALSE(dec.Next().has_value());
}

TEST(MacStageTest, ZeroCopyModelFrameVerifies) {
  StagePair p;
  ModelPayload m;
  m.values.assign(1 << 17, 0.25f);  // 512 KiB: referenced, so the MAC spans several pieces
  Envelope env;
  env.body = std::move(m);
  EncodedMessage msg = Encode(std::move(env));
  EXPECT_GE(msg.Pieces().size(), 3u);  // table, segment, external segment
  FrameDecoder dec;
  dec.set_opener(p.acceptor.opener.get());
  ASSERT_TRUE(dec.Feed(FlattenFrame(msg, p.initiator.sealer.get())).ok());
  auto frame = dec.Next();
  ASSERT_TRUE(frame.has_value());
  auto got = OpenFrame(std::move(*frame));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::get<ModelPayload>(got->body).values, std::vector<float>(1 << 17, 0.25f));
}

TEST(MacStageTest, MacPresenceMustMatchConnectionState) {
  StagePair p;
  Envelope env;
  env.body = Ping{1, kNoNode, kNoNode};
  FrameDecoder plain_dec;
  Status st = plain_dec.Feed(FlattenFrame(Encode(env), p.initiator.sealer.get()));
  EXPECT_EQ(st.code(), StatusCode::kInvalidInput) << st.ToString();
  FrameDecoder mac_dec;
  mac_dec.set_opener(p.acceptor.opener.get());
  st = mac_dec.Feed(FlattenFrame(Encode(env), nullptr));
  EXPECT_EQ(st.code(), StatusCode::kAuthFailed) << st.ToString();
  EXPECT_NE(st.message().find("without MAC"), std::string::npos) << st.message();
}

// Sealer and opener are the FrameAuthenticator's streaming MAC: the same tag.
TEST(MacStageTest, TrailerIsTheFrameAuthenticatorsMac) {
  StagePair p;
  Envelope env;
  env.body = Bye{"x"};
  EncodedMessage msg = Encode(env);
  std::vector<uint8_t> wire = FlattenFrame(msg, p.initiator.sealer.get());
  FrameAuthenticator reference(kSecret, Filled(10), Filled(20), true);
  auto header = std::span<const uint8_t>(wire).first(kFrameHeaderBytes);
  FrameMac mac = reference.Sign(header, msg.Pieces());
  EXPECT_TRUE(std::equal(mac.begin(), mac.end(), wire.end() - kMacBytes));
}

// ---- the whole handshake, as docs/protocol.md describes it ------------------------

// Carries envelopes between two FrameDecoders, as a socket pair would.
struct Wire {
  FrameDecoder to_acceptor, to_initiator;
  void Send(FrameDecoder& dst, const Envelope& e, FrameSealer* sealer) {
    ASSERT_TRUE(dst.Feed(FlattenFrame(Encode(e), sealer)).ok());
  }
  Result<Envelope> Receive(FrameDecoder& src) {
    auto f = src.Next();
    if (!f) return Status::Unavailable("no frame");
    return OpenFrame(std::move(*f));
  }
};

Envelope HelloFrom(NodeId id, const Nonce& nonce) {
  Envelope e;
  e.sender = id;
  e.body = Hello{kProtocolMajor, kProtocolMinor, id, 1, "", false, true, nonce};
  return e;
}

Envelope ProofFrom(NodeId id, const Mac& mac) {
  Envelope e;
  e.sender = id;
  e.body = AuthProof{mac};
  return e;
}

TEST(HandshakeTest, MutualAuthThenMacedFrames) {
  Wire w;
  const Nonce ni = RandomNonce(), na = RandomNonce();
  w.Send(w.to_acceptor, HelloFrom(1, ni), nullptr);
  w.Send(w.to_initiator, HelloFrom(2, na), nullptr);
  auto hello_at_a = w.Receive(w.to_acceptor);
  auto hello_at_i = w.Receive(w.to_initiator);
  ASSERT_TRUE(hello_at_a.ok() && hello_at_i.ok());
  const Nonce& ni_seen = std::get<Hello>(hello_at_a->body).nonce;
  const Nonce& na_seen = std::get<Hello>(hello_at_i->body).nonce;

  w.Send(w.to_acceptor, ProofFrom(1, AuthProofFor(kSecret, na_seen, ni, 1)), nullptr);
  w.Send(w.to_initiator, ProofFrom(2, AuthProofFor(kSecret, ni_seen, na, 2)), nullptr);
  auto proof_at_a = w.Receive(w.to_acceptor);
  auto proof_at_i = w.Receive(w.to_initiator);
  ASSERT_TRUE(proof_at_a.ok() && proof_at_i.ok());
  EXPECT_TRUE(VerifyAuthProof(kSecret, na, ni_seen, 1, std::get<AuthProof>(proof_at_a->body).mac));
  EXPECT_TRUE(VerifyAuthProof(kSecret, ni, na_seen, 2, std::get<AuthProof>(proof_at_i->body).mac));

  FrameStages at_i = MacStages(kSecret, ni, na_seen, /*initiator=*/true);
  FrameStages at_a = MacStages(kSecret, ni_seen, na, /*initiator=*/false);
  w.to_acceptor.set_opener(at_a.opener.get());  // between frames, as a session does
  Envelope ping;
  ping.sender = 1;
  ping.body = Ping{42, kNoNode, kNoNode};
  w.Send(w.to_acceptor, ping, at_i.sealer.get());
  auto got = w.Receive(w.to_acceptor);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(std::get<Ping>(got->body).seq, 42u);
}

TEST(HandshakeTest, WrongSecretIsRefused) {
  const Nonce ni = RandomNonce(), na = RandomNonce();
  Mac forged = AuthProofFor(kOther, na, ni, 1);
  EXPECT_FALSE(VerifyAuthProof(kSecret, na, ni, 1, forged));
}

// An attacker M without the secret opens two connections to node A and plays
// A's own proof from connection 2 back into connection 1, claiming A's id. The
// proof verifies (callers must refuse a peer claiming their own id), but M still
// cannot produce a single valid frame: frame keys are bound to direction and to
// which nonce belongs to the initiator.
TEST(HandshakeTest, ReflectedProofYieldsNoUsableKeys) {
  const NodeId a_id = 7;
  const Nonce na1 = RandomNonce();  // A's nonce on connection 1
  const Nonce na2 = RandomNonce();  // A's nonce on connection 2
  // Connection 2: M sends Hello with nonce na1; A proves over it.
  Mac a_proof = AuthProofFor(kSecret, /*peer_nonce=*/na1, /*my_nonce=*/na2, a_id);
  // Connection 1: M sends Hello{id = a_id, nonce = na2} and replays the proof.
  EXPECT_TRUE(VerifyAuthProof(kSecret, na1, na2, a_id, a_proof));
  // A's authenticators: acceptor on both connections, M is the initiator.
  FrameAuthenticator a_conn1(kSecret, /*a=*/na2, /*b=*/na1, /*initiator=*/false);
  FrameAuthenticator a_conn2(kSecret, /*a=*/na1, /*b=*/na2, /*initiator=*/false);
  // The only MACs M can obtain are A's outgoing frames on connection 2.
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, 40});
  FrameMac from_a = SignOne(a_conn2, header, Payload(1));
  EXPECT_FALSE(a_conn1.Verify(header, Payload(1), from_a));
}

// ---- secret files ----------------------------------------------------------------------

class SecretFileTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("gv_secret_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SecretFileTest, TrimsTrailingNewline) {
  auto s = LoadSecretFile(Write("ok", "0123456789abcdef0123\n"));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(std::string(s->bytes.begin(), s->bytes.end()), "0123456789abcdef0123");
  auto crlf = LoadSecretFile(Write("crlf", "0123456789abcdef0123\r\n"));
  ASSERT_TRUE(crlf.ok());
  EXPECT_EQ(crlf->bytes, s->bytes);
}

TEST_F(SecretFileTest, MissingFileNamesIt) {
  std::string path = (dir_ / "nope").string();
  auto s = LoadSecretFile(path);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kNotFound);
  EXPECT_NE(s.status().message().find(path), std::string::npos);
}

TEST_F(SecretFileTest, EmptyOrShortRejected) {
  auto empty = LoadSecretFile(Write("empty", "\n"));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(empty.status().message().find("empty"), std::string::npos);
  auto shrt = LoadSecretFile(Write("short", "hunter2\n"));
  ASSERT_FALSE(shrt.ok());
  EXPECT_NE(shrt.status().message().find("at least 16"), std::string::npos);
  EXPECT_NE(shrt.status().message().find("short"), std::string::npos);
}

TEST_F(SecretFileTest, DirectoryRejected) {
  auto s = LoadSecretFile(dir_.string());
  EXPECT_FALSE(s.ok());
}

}  // namespace
}  // namespace grapevine::proto
