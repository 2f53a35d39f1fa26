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

namespace grapevine::proto {
namespace {

// Domain-separation labels: a MAC computed for one purpose is never valid for
// another, even under the same secret.
constexpr char kProofLabel[] = "grapevine auth proof v1";
constexpr char kFrameKeyLabel[] = "grapevine frame key v1";
constexpr uint8_t kInitiatorToAcceptor = 1;
constexpr uint8_t kAcceptorToInitiator = 2;

using Bytes = std::span<const uint8_t>;

Bytes AsBytes(const char* s) { return {reinterpret_cast<const uint8_t*>(s), std::strlen(s)}; }

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
    EVP_MAC_CTX* c = EVP_MAC_CTX_dup(ctx_);
    GV_CHECK(c != nullptr);
    for (Bytes p : parts) {
      if (!p.empty()) GV_CHECK(EVP_MAC_update(c, p.data(), p.size()) == 1);
    }
    Mac out{};
    size_t len = 0;
    GV_CHECK(EVP_MAC_final(c, out.data(), &len, out.size()) == 1);
    GV_CHECK(len == out.size());
    EVP_MAC_CTX_free(c);
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

struct FrameAuthenticator::Impl {
  Impl(const Mac& send_key, const Mac& recv_key) : send(send_key), recv(recv_key) {}
  KeyedHmac send;
  KeyedHmac recv;
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

Mac FrameAuthenticator::Sign(std::span<const uint8_t> header,
                             const std::vector<std::span<const uint8_t>>& payload_pieces) {
  auto seq = Le64(impl_->send_seq++);
  std::vector<Bytes> parts;
  parts.reserve(payload_pieces.size() + 2);
  parts.push_back(seq);
  parts.push_back(header);
  parts.insert(parts.end(), payload_pieces.begin(), payload_pieces.end());
  return impl_->send.Compute(parts);
}

bool FrameAuthenticator::Verify(std::span<const uint8_t> header, std::span<const uint8_t> payload,
                                const Mac& mac) {
  auto seq = Le64(impl_->recv_seq);
  Mac expected = impl_->recv.Compute({Bytes(seq), header, payload});
  if (!ConstantTimeEqual(expected, mac)) return false;
  ++impl_->recv_seq;
  return true;
}

uint64_t FrameAuthenticator::sent_frames() const { return impl_->send_seq; }
uint64_t FrameAuthenticator::received_frames() const { return impl_->recv_seq; }

}  // namespace grapevine::proto
