// Stream framing: the fixed 12-byte frame header and an incremental decoder.
//
// A frame on a TCP stream is
//   header (kFrameHeaderBytes) | payload (header.length bytes, one Cap'n Proto
//   message: segment table + segments) | MAC (16 bytes, only if kFlagMac)
// Header layout: magic "GRPV", major u8, minor u8, flags u16 LE, length u32 LE.
// See docs/protocol.md.
//
// Pure code, no I/O: agent/net sessions feed whatever bytes the socket delivered
// into a FrameDecoder and pull complete frames out. The payload length is checked
// against the receiver's limit before a single payload byte is buffered.
//
// Thread-safety: FrameDecoder is a single-owner object (one per connection, used
// by that connection's reader only). The free functions are pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "proto/messages.h"

namespace grapevine::proto {

inline constexpr size_t kFrameHeaderBytes = 12;
inline constexpr std::array<uint8_t, 4> kFrameMagic = {'G', 'R', 'P', 'V'};

// Frame flags (u16 bit set). A receiver rejects bits it does not know, since a
// flag may change how the rest of the frame is laid out.
// Bit 0 was protocol 1.0's 32-byte HMAC-SHA256 trailer; it is retired (rejected as
// unknown), so a 1.0 and a 1.1 peer fail loudly on their first authenticated frame.
inline constexpr uint16_t kFlagMac = 2;  // 16-byte Poly1305 tag follows the payload
inline constexpr uint16_t kKnownFrameFlags = kFlagMac;

inline constexpr size_t kMacBytes = std::tuple_size_v<FrameMac>;

// Default for --max-frame-bytes: room for a ~60M-parameter float32 model.
inline constexpr uint32_t kDefaultMaxFrameBytes = 256u << 20;

struct FrameHeader {
  uint8_t major = kProtocolMajor;
  uint8_t minor = kProtocolMinor;
  uint16_t flags = 0;
  uint32_t length = 0;  // payload bytes, excluding header and MAC
  bool operator==(const FrameHeader&) const = default;
};

std::array<uint8_t, kFrameHeaderBytes> EncodeFrameHeader(const FrameHeader& header);

// Validates magic, major version (== kProtocolMajor; any minor is accepted),
// flags, and length <= max_frame_bytes. Allocates nothing.
Result<FrameHeader> DecodeFrameHeader(std::span<const uint8_t, kFrameHeaderBytes> bytes,
                                      uint32_t max_frame_bytes);

struct Frame {
  FrameHeader header;
  std::vector<uint8_t> payload;  // heap storage: 8-byte aligned, as the codec wants
  std::optional<FrameMac> mac;   // present iff header.flags & kFlagMac
};

// Incremental frame decoder for a byte stream delivered in arbitrary pieces
// (a whole buffer, or one byte at a time: the result is the same).
class FrameDecoder {
 public:
  explicit FrameDecoder(uint32_t max_frame_bytes = kDefaultMaxFrameBytes);

  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;
  FrameDecoder(FrameDecoder&&) = default;
  FrameDecoder& operator=(FrameDecoder&&) = default;

  // Consumes all of `bytes`. An error means the stream is poisoned (bad magic,
  // version, flags or length): drop the connection. Every later Feed returns the
  // same error. Frames completed before the bad header stay available via Next().
  Status Feed(std::span<const uint8_t> bytes);

  // The oldest complete frame, if any.
  std::optional<Frame> Next();

  // Complete frames waiting in Next().
  size_t pending() const { return ready_.size(); }
  // Bytes of the frame under construction (0 between frames).
  size_t buffered_bytes() const;

 private:
  enum class Stage { kHeader, kPayload, kMac };

  // Each consumes a prefix of `bytes` and returns how many bytes it used.
  size_t FeedHeader(std::span<const uint8_t> bytes);
  size_t FeedPayload(std::span<const uint8_t> bytes);
  size_t FeedMac(std::span<const uint8_t> bytes);
  void FinishFrame();

  uint32_t max_frame_bytes_;
  Status error_;
  Stage stage_ = Stage::kHeader;
  std::array<uint8_t, kFrameHeaderBytes> header_bytes_{};
  size_t header_fill_ = 0;
  Frame current_;
  size_t mac_fill_ = 0;
  std::deque<Frame> ready_;
};

}  // namespace grapevine::proto
