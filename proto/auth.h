// Shared-secret authentication: challenge-response proofs and per-frame MACs.
//
// All peers of a closed swarm share one secret (--secret-file). On a new
// connection each side sends a fresh nonce in its Hello; each side proves it knows
// the secret with AuthProofFor() over the other's nonce, and the other checks it
// with VerifyAuthProof(). After that every frame carries a Poly1305 tag over the
// frame header and the payload under a one-time key derived (HMAC-SHA256) from a
// per-connection, per-direction key and the frame's sequence number
// (FrameAuthenticator), so frames cannot be forged, altered, replayed, reordered or
// reflected back to their sender. The full handshake is in docs/protocol.md.
//
// HMAC-SHA256, Poly1305 and randomness come from OpenSSL libcrypto.
//
// Thread-safety: the free functions are thread-safe. A FrameAuthenticator
// belongs to one connection; Sign() (writer side) and Verify() (reader side)
// touch disjoint state and may run on different threads, but each of them must
// not be called concurrently with itself.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "proto/frame_stage.h"
#include "proto/messages.h"

namespace grapevine::proto {

inline constexpr size_t kMinSecretBytes = 16;

struct Secret {
  std::vector<uint8_t> bytes;
};

// Reads a secret file: its whole content minus trailing "\n"/"\r\n". Fails with
// a message naming the file if it cannot be read (kNotFound / kIoError), is empty
// or shorter than kMinSecretBytes (kInvalidInput).
Result<Secret> LoadSecretFile(const std::string& path);

// 32 bytes from the OpenSSL CSPRNG. Aborts if the CSPRNG fails (no entropy is a
// broken machine, not bad input).
Nonce RandomNonce();

// My proof that I know the secret, answering the peer's challenge `peer_nonce`.
// Binds both nonces and my node id, so it is useless on any other connection.
Mac AuthProofFor(const Secret& secret, const Nonce& peer_nonce, const Nonce& my_nonce,
                 NodeId my_id);

// Checks a peer's proof over my challenge (constant-time compare). Rejects a
// peer nonce equal to mine (a peer echoing my Hello back). Callers should also
// refuse a peer that claims their own node id.
bool VerifyAuthProof(const Secret& secret, const Nonce& my_nonce, const Nonce& peer_nonce,
                     NodeId peer_id, const Mac& proof);

// Per-connection frame MACs. Both ends construct it with the same two nonces in
// the same order: `a` is the connection initiator's nonce (the side that
// connected), `b` the acceptor's; `initiator` says which side this end is.
// Keys: K = HMAC(secret, label | direction | a | b), one per direction.
// MAC of frame n in a direction = Poly1305(k_n, header | payload) with the one-time
// key k_n = HMAC(K, label | n as u64 LE): a fresh Poly1305 key for every frame.
class FrameAuthenticator {
 public:
  FrameAuthenticator(const Secret& secret, const Nonce& a, const Nonce& b, bool initiator);
  ~FrameAuthenticator();
  FrameAuthenticator(FrameAuthenticator&&) noexcept;
  FrameAuthenticator& operator=(FrameAuthenticator&&) noexcept;
  FrameAuthenticator(const FrameAuthenticator&) = delete;
  FrameAuthenticator& operator=(const FrameAuthenticator&) = delete;

  // MAC for the next outgoing frame; advances the send sequence number.
  // `header` is the encoded frame header (with kFlagMac set), the pieces are the
  // payload in order (e.g. EncodedMessage::Pieces()).
  FrameMac Sign(std::span<const uint8_t> header,
                const std::vector<std::span<const uint8_t>>& payload_pieces);

  // Checks the MAC of the next incoming frame; advances the receive sequence
  // number only on success. A false return means: drop the connection.
  bool Verify(std::span<const uint8_t> header, std::span<const uint8_t> payload,
              const FrameMac& mac);

  // Streaming forms, for a payload that is sent or received piece by piece (the
  // MAC is computed while the bytes move instead of in a pass of its own):
  //   BeginSign(header); UpdateSign(bytes)...; FinishSign()  == Sign(header, pieces)
  //   BeginVerify(header); UpdateVerify(bytes)...; FinishVerify(mac) == Verify(...)
  // One frame at a time per direction. Nothing received may be used before
  // FinishVerify returned true. A Begin abandons an unfinished frame of its direction
  // (its sequence number is not used up).
  void BeginSign(std::span<const uint8_t> header);
  void UpdateSign(std::span<const uint8_t> bytes);
  FrameMac FinishSign();
  void BeginVerify(std::span<const uint8_t> header);
  void UpdateVerify(std::span<const uint8_t> bytes);
  bool FinishVerify(const FrameMac& mac);

  uint64_t sent_frames() const;
  uint64_t received_frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Protocol 1.1's frame stages for an authenticated connection (the FrameEncoder /
// FrameDecoder of each direction, proto/framer.h): kFlagMac on every frame and a
// Poly1305 tag after the payload, computed with a FrameAuthenticator built from the
// same arguments while the bytes move. A frame whose tag does not verify is
// kAuthFailed. The sealer and the opener share the authenticator; each is used by one
// direction only.
FrameStages MacStages(const Secret& secret, const Nonce& a, const Nonce& b, bool initiator);

}  // namespace grapevine::proto
