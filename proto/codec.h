// Codec: proto::Envelope <-> one Cap'n Proto message (the payload of a frame).
//
// This is the only place that touches Cap'n Proto types, and the only place in
// proto/ where library exceptions are caught: every kj/capnp exception raised while
// reading untrusted bytes becomes Status kInvalidInput with a readable reason.
// Reader limits are set explicitly from the payload size, so a hostile payload can
// neither crash us nor make us allocate much more than its own size.
//
// Float arrays travel as Data blobs of little-endian float32; union members we do
// not know (a newer peer) decode to proto::UnknownKind{discriminant}.
//
// Thread-safety: Encode/Decode are pure and thread-safe. An EncodedMessage is a
// value owned by whoever sends it; its Pieces() stay valid while it lives.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/status.h"
#include "proto/messages.h"

namespace grapevine::proto {

// Decoder limits (docs/protocol.md, "Limits"). The payload itself is bounded by
// the frame limit (--max-frame-bytes) before it reaches Decode.
inline constexpr uint32_t kMaxSegments = 512;               // capnp's own stream limit
inline constexpr size_t kMaxListEntries = size_t{1} << 20;  // members, edges, nodes...
inline constexpr uint64_t kTraversalFactor = 2;             // words read per payload word
inline constexpr uint64_t kTraversalSlackWords = 1024;
inline constexpr int kNestingLimit = 16;  // we nest 4 deep today

// An encoded message ready for a scatter-gather write: the Cap'n Proto segment
// table followed by the segments, exactly as getSegmentsForOutput() laid them
// out, without copying them into one buffer.
TrafficClass TrafficOf(const Body& body);

class EncodedMessage {
 public:
  EncodedMessage();
  ~EncodedMessage();
  EncodedMessage(EncodedMessage&&) noexcept;
  EncodedMessage& operator=(EncodedMessage&&) noexcept;
  EncodedMessage(const EncodedMessage&) = delete;
  EncodedMessage& operator=(const EncodedMessage&) = delete;

  // Segment table, then each segment. The spans stay valid while this message,
  // or the one it is moved into, lives.
  std::vector<std::span<const uint8_t>> Pieces() const;
  // Total bytes over all pieces (the frame's payload length); a multiple of 8.
  size_t size() const;
  // One contiguous copy of the pieces (tests, small control messages).
  std::vector<uint8_t> Flatten() const;
  // TrafficOf the body it was encoded from.
  TrafficClass traffic() const { return traffic_; }

 private:
  friend EncodedMessage Encode(const Envelope& envelope);
  friend EncodedMessage Encode(Envelope&& envelope);
  struct Impl;
  // Fills impl_->builder from `envelope`; with `reference_arrays`, big float
  // arrays become segments of their own that point into `envelope`.
  void Build(const Envelope& envelope, bool reference_arrays);
  std::unique_ptr<Impl> impl_;
  TrafficClass traffic_ = TrafficClass::kControl;
};

// REQUIRES: envelope.body does not hold UnknownKind (it has no wire form).
EncodedMessage Encode(const Envelope& envelope);

// Zero-copy variant: takes ownership of the envelope and lets the big float
// arrays (values of a ModelPayload / CrossGradient, >= 64 KiB, even length) be
// written straight from its vectors instead of being copied into the message.
// Decodes to the same Envelope as Encode(const Envelope&); the message simply
// has more segments (one per referenced array).
EncodedMessage Encode(Envelope&& envelope);

// Decodes one frame payload. Never throws, never crashes on garbage.
Result<Envelope> Decode(std::span<const uint8_t> payload);

// Zero-copy variant for big models: the values of a ModelPayload / CrossGradient
// (>= 64 KiB) are not copied but viewed in place (FloatArray::View), each array
// sharing ownership of `block`, which must own the (mutable) memory of `payload`.
// The owner of that memory must neither reuse nor free it while `block` has other
// owners than itself; arrays may write into their own range of it. With a null
// block, or a payload that is not 8-byte aligned, this is Decode(payload).
Result<Envelope> Decode(std::span<uint8_t> payload, std::shared_ptr<void> block);

// The union discriminant of a body on the wire (== the variant index for every
// kind this build knows; UnknownKind reports the discriminant it carried). This
// is what Unimplemented.kind echoes back.
uint16_t KindOf(const Body& body);

// Human-readable kind name for logs ("hello", "modelPayload", ... or "kind#18").
std::string KindName(uint16_t kind);

}  // namespace grapevine::proto
