#include "proto/auth.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>

#include "proto/framer.h"

namespace grapevine::proto {
namespace {

// Domain-separation labels: a MAC computed for one purpose is never valid for
// another, even under the same secret.
constexpr char kProofLabel[] = "grapevine auth proof v1";
constexpr char kFrameKeyLabel[] = "grapevine frame key v1";
constexpr char kFrameOneTimeKeyLabel[] = "grapevine frame one-time key v1";
constexpr uint8_t kInitiatorToAcceptor = 1;
constexpr uint8_t kAcceptorToInitiator = 2;

using Bytes = std::span<const uint8_t>;

Bytes AsBytes(const char* s) { return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)}; }

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* c) const { EVP_MAC_CTX_free(c); }
};
// An OpenSSL MAC context (one computation in progress, or a keyed template).
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// An HMAC-SHA256 context keyed once; Compute() works on a copy so the keyed
// state is reused across messages.
class KeyedHmac {
 public:
  explicit KeyedHmac(Bytes key) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    GV_CHECK_MSG(mac != nullptr, "OpenSSL has no HMAC");
    ctx_ = EVP_MAC_CTX_new(mac);
    EVP_MAC_free(mac);  // the context holds its own reference
    GV_CHECK(ctx_ != nullptr);
    char digest[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    GV_CHECK(EVP_MAC_init(ctx_, key.data(), key.size(), params) == 1);
  }
  ~KeyedHmac() { EVP_MAC_CTX_free(ctx_); }
  KeyedHmac(const KeyedHmac&) = delete;
  KeyedHmac& operator=(const KeyedHmac&) = delete;

  Mac Compute(std::initializer_list<Bytes> parts) const {
    return Compute(std::vector<Bytes>(parts));
  }
  Mac Compute(const std::vector<Bytes>& parts) const {
    MacCtx c = Start();
    for (Bytes p : parts) Update(c, p);
    return Finish(std::move(c));
  }

  // Streaming: Start(), Update()..., Finish() == Compute() over the same bytes.
  MacCtx Start() const {
    MacCtx c(EVP_MAC_CTX_dup(ctx_));
    GV_CHECK(c != nullptr);
    return c;
  }
  static void Update(const MacCtx& c, Bytes p) {
    if (!p.empty()) GV_CHECK(EVP_MAC_update(c.get(), p.data(), p.size()) == 1);
  }
  static Mac Finish(MacCtx c) {
    Mac out{};
    size_t len = 0;
    GV_CHECK(EVP_MAC_final(c.get(), out.data(), &len, out.size()) == 1);
    GV_CHECK(len == out.size());
    return out;
  }

 private:
  EVP_MAC_CTX* ctx_ = nullptr;
};

std::array<uint8_t, 8> Le64(uint64_t v) {
  std::array<uint8_t, 8> b{};
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

std::array<uint8_t, 4> Le32(uint32_t v) {
  std::array<uint8_t, 4> b{};
  for (int i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
  return b;
}

bool ConstantTimeEqual(const Mac& x, const Mac& y) {
  return CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

Mac DeriveKey(const Secret& secret, uint8_t direction, const Nonce& a, const Nonce& b) {
  KeyedHmac h(secret.bytes);
  uint8_t dir[1] = {direction};
  return h.Compute({AsBytes(kFrameKeyLabel), Bytes(dir), Bytes(a), Bytes(b)});
}

}  // namespace

Result<Secret> LoadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("secret file '" + path + "': cannot open: " + std::strerror(errno));
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return Status::Invalid("secret file '" + path + "' is a directory");
  }
  Secret s;
  s.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IoError("secret file '" + path + "': read error");
  while (!s.bytes.empty() && (s.bytes.back() == '\n' || s.bytes.back() == '\r')) {
    s.bytes.pop_back();
  }
  if (s.bytes.empty()) {
    return Status::Invalid("secret file '" + path + "' is empty");
  }
  if (s.bytes.size() < kMinSecretBytes) {
    return Status::Invalid("secret file '" + path + "' holds " + std::to_string(s.bytes.size()) +
                           " bytes; a secret needs at least " + std::to_string(kMinSecretBytes) +
                           " (e.g. `openssl rand -hex 32 > " + path + "`)");
  }
  return s;
}

Nonce RandomNonce() {
  Nonce n{};
  GV_CHECK_MSG(RAND_bytes(n.data(), static_cast<int>(n.size())) == 1, "RAND_bytes failed");
  return n;
}

Mac AuthProofFor(const Secret& secret, const Nonce& peer_nonce, const Nonce& my_nonce,
                 NodeId my_id) {
  KeyedHmac h(secret.bytes);
  auto id = Le32(my_id);
  return h.Compute({AsBytes(kProofLabel), Bytes(peer_nonce), Bytes(my_nonce), Bytes(id)});
}

bool VerifyAuthProof(const Secret& secret, const Nonce& my_nonce, const Nonce& peer_nonce,
                     NodeId peer_id, const Mac& proof) {
  if (CRYPTO_memcmp(my_nonce.data(), peer_nonce.data(), my_nonce.size()) == 0) return false;
  // The peer computed AuthProofFor(secret, its peer_nonce = my_nonce, its own nonce, its id).
  Mac expected = AuthProofFor(secret, my_nonce, peer_nonce, peer_id);
  return ConstantTimeEqual(expected, proof);
}

// ---- FrameAuthenticator ------------------------------------------------------------

namespace {

// Poly1305 over one frame under that frame's one-time key. Poly1305 is a one-time
// authenticator: a key must never tag two different messages, hence one key per
// (direction, sequence number), derived with HMAC-SHA256 from the direction key.
// A key whose frame was abandoned (Begin without Finish) produced no tag, so its
// reuse for the next frame is harmless.
class FrameMacStream {
 public:
  explicit FrameMacStream(const Mac& direction_key) : key_(direction_key) {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "POLY1305", nullptr);
    GV_CHECK_MSG(mac != nullptr, "OpenSSL has no Poly1305");
    ctx_.reset(EVP_MAC_CTX_new(mac));
    EVP_MAC_free(mac);
    GV_CHECK(ctx_ != nullptr);
  }

  void Begin(uint64_t seq, Bytes header) {
    auto n = Le64(seq);
    Mac one_time = key_.Compute({AsBytes(kFrameOneTimeKeyLabel), Bytes(n)});
    GV_CHECK(EVP_MAC_init(ctx_.get(), one_time.data(), one_time.size(), nullptr) == 1);
    OPENSSL_cleanse(one_time.data(), one_time.size());
    open_ = true;
    Update(header);
  }
  void Update(Bytes bytes) {
    GV_CHECK_MSG(open_, "frame MAC update without Begin");
    if (!bytes.empty()) GV_CHECK(EVP_MAC_update(ctx_.get(), bytes.data(), bytes.size()) == 1);
  }
  FrameMac Finish() {
    GV_CHECK_MSG(open_, "frame MAC finish without Begin");
    open_ = false;
    FrameMac out{};
    size_t len = 0;
    GV_CHECK(EVP_MAC_final(ctx_.get(), out.data(), &len, out.size()) == 1);
    GV_CHECK(len == out.size());
    return out;
  }

 private:
  KeyedHmac key_;  // the direction key K
  MacCtx ctx_;
  bool open_ = false;
};

}  // namespace

struct FrameAuthenticator::Impl {
  Impl(const Mac& send_key, const Mac& recv_key) : send(send_key), recv(recv_key) {}
  FrameMacStream send;
  FrameMacStream recv;
  uint64_t send_seq = 0;
  uint64_t recv_seq = 0;
};

FrameAuthenticator::FrameAuthenticator(const Secret& secret, const Nonce& a, const Nonce& b,
                                       bool initiator) {
  Mac i2a = DeriveKey(secret, kInitiatorToAcceptor, a, b);
  Mac a2i = DeriveKey(secret, kAcceptorToInitiator, a, b);
  impl_ = initiator ? std::make_unique<Impl>(i2a, a2i) : std::make_unique<Impl>(a2i, i2a);
  OPENSSL_cleanse(i2a.data(), i2a.size());
  OPENSSL_cleanse(a2i.data(), a2i.size());
}

FrameAuthenticator::~FrameAuthenticator() = default;
FrameAuthenticator::FrameAuthenticator(FrameAuthenticator&&) noexcept = default;
FrameAuthenticator& FrameAuthenticator::operator=(FrameAuthenticator&&) noexcept = default;

FrameMac FrameAuthenticator::Sign(std::span<const uint8_t> header,
                                  const std::vector<std::span<const uint8_t>>& payload_pieces) {
  BeginSign(header);
  for (Bytes piece : payload_pieces) UpdateSign(piece);
  return FinishSign();
}

bool FrameAuthenticator::Verify(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                                const FrameMac& mac) {
  BeginVerify(header);
  UpdateVerify(payload);
  return FinishVerify(mac);
}

void FrameAuthenticator::BeginSign(std::span<const uint8_t> header) {
  impl_->send.Begin(impl_->send_seq, header);  // an abandoned frame never went out whole
}

void FrameAuthenticator::UpdateSign(std::span<const uint8_t> bytes) { impl_->send.Update(bytes); }

FrameMac FrameAuthenticator::FinishSign() {
  ++impl_->send_seq;
  return impl_->send.Finish();
}

void FrameAuthenticator::BeginVerify(std::span<const uint8_t> header) {
  impl_->recv.Begin(impl_->recv_seq, header);  // an abandoned frame is simply dropped
}

void FrameAuthenticator::UpdateVerify(std::span<const uint8_t> bytes) {
  impl_->recv.Update(bytes);
}

bool FrameAuthenticator::FinishVerify(const FrameMac& mac) {
  FrameMac expected = impl_->recv.Finish();
  if (CRYPTO_memcmp(expected.data(), mac.data(), mac.size()) != 0) return false;
  ++impl_->recv_seq;
  return true;
}

uint64_t FrameAuthenticator::sent_frames() const { return impl_->send_seq; }
uint64_t FrameAuthenticator::received_frames() const { return impl_->recv_seq; }

// ---- frame stages -------------------------------------------------------------------

namespace {

class MacSealer final : public FrameSealer {
 public:
  explicit MacSealer(std::shared_ptr<FrameAuthenticator> auth) : auth_(std::move(auth)) {}
  uint16_t flags() const override { return kFlagMac; }
  size_t trailer_bytes() const override { return kMacBytes; }
  void BeginSeal(Bytes header) override { auth_->BeginSign(header); }
  Bytes SealBytes(Bytes bytes) override {
    auth_->UpdateSign(bytes);
    return bytes;  // a MAC leaves the payload as it is
  }
  void FinishSeal(std::span<uint8_t> trailer) override {
    GV_CHECK(trailer.size() == kMacBytes);
    FrameMac mac = auth_->FinishSign();
    std::copy(mac.begin(), mac.end(), trailer.begin());
  }

 private:
  std::shared_ptr<FrameAuthenticator> auth_;
};

class MacOpener final : public FrameOpener {
 public:
  explicit MacOpener(std::shared_ptr<FrameAuthenticator> auth) : auth_(std::move(auth)) {}
  uint16_t flags() const override { return kFlagMac; }
  size_t trailer_bytes() const override { return kMacBytes; }
  void BeginOpen(Bytes header) override { auth_->BeginVerify(header); }
  void OpenBytes(std::span<uint8_t> bytes) override { auth_->UpdateVerify(bytes); }
  Status FinishOpen(Bytes trailer) override {
    FrameMac mac{};
    if (trailer.size() != mac.size()) return Status::AuthFailed("frame MAC of the wrong size");
    std::copy(trailer.begin(), trailer.end(), mac.begin());
    if (!auth_->FinishVerify(mac)) {
      return Status::AuthFailed("frame MAC does not verify (wrong key, tampered or replayed frame)");
    }
    return Status::Ok();
  }

 private:
  std::shared_ptr<FrameAuthenticator> auth_;
};

}  // namespace

FrameStages MacStages(const Secret& secret, const Nonce& a, const Nonce& b, bool initiator) {
  auto auth = std::make_shared<FrameAuthenticator>(secret, a, b, initiator);
  FrameStages stages;
  stages.sealer = std::make_unique<MacSealer>(auth);
  stages.opener = std::make_unique<MacOpener>(auth);
  return stages;
}

}  // namespace grapevine::proto
