// Stream framing: the fixed 12-byte frame header, and the one encoder and decoder
// of the frame stream that every session uses.
//
// A frame on a TCP stream is
//   header (kFrameHeaderBytes) | payload (header.length bytes, one Cap'n Proto
//   message: segment table + segments) | trailer (16-byte MAC, only if kFlagMac)
// Header layout: magic "GRPV", major u8, minor u8, flags u16 LE, length u32 LE.
// See docs/protocol.md.
//
// Pure code, no I/O, in the manner of the request parser of Asio's http/server
// example: agent/net sessions only move bytes. The receiving session asks the
// decoder where the next bytes go (Prepare), reads from the socket straight into that
// span and reports how many arrived (Commit); the sending session writes the gather
// lists the encoder hands out (NextBatch). The per-frame crypto step (a MAC today,
// AEAD later) is a FrameSealer / FrameOpener stage run while the bytes move
// (proto/frame_stage.h). The payload length is checked against the receiver's limit
// before any payload memory is allocated.
//
// Thread-safety: FrameDecoder and FrameEncoder are single-owner objects (one per
// connection direction). The free functions are pure.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "proto/frame_stage.h"
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

// Frames at least this big are read into memory from the decoder's PayloadPool (if it
// has one), so that model-sized buffers are recycled; smaller ones get a heap block of
// their own.
inline constexpr size_t kPooledFrameBytes = size_t{1} << 20;

// One received frame, already through the decoder's opener (if any): its MAC, when
// there was one, verified.
struct Frame {
  FrameHeader header;
  std::span<uint8_t> payload;        // header.length bytes inside *storage
  std::shared_ptr<uint8_t> storage;  // owns the payload memory (8-byte aligned); null if empty
};

// Incremental frame decoder for a byte stream delivered in arbitrary pieces (a whole
// buffer, or one byte at a time: the result is the same).
//
// Two ways to feed it: Prepare()/Commit(), which let the caller receive straight into
// the frame's own memory (no copy; what sessions do), and Feed(), which copies a
// buffer through the same two calls. Prepare never extends past the end of the
// current frame, so a caller that receives only into Prepare()'s span consumes the
// stream frame by frame and may change the limit or the opener between frames.
//
// Errors poison the decoder (bad magic, version, flags or length; a frame whose MAC
// presence does not match the opener; a trailer the opener rejects): every later
// call fails with the same status; drop the connection.
class FrameDecoder {
 public:
  // `pool` (may be null: heap blocks for every frame) must outlive the decoder.
  explicit FrameDecoder(uint32_t max_frame_bytes = kDefaultMaxFrameBytes,
                        PayloadPool* pool = nullptr);

  FrameDecoder(const FrameDecoder&) = delete;
  FrameDecoder& operator=(const FrameDecoder&) = delete;

  // Both take effect from the next frame header on.
  // REQUIRES: between frames (buffered_bytes() == 0).
  void set_max_frame_bytes(uint32_t max_frame_bytes);
  // The stage every later frame must pass (null: frames carry no trailer, and a
  // frame with kFlagMac is rejected). Not owned; must outlive its use.
  void set_opener(FrameOpener* opener);
  FrameOpener* opener() const { return opener_; }

  // Where the next at most `max_bytes` bytes of the stream go: the rest of the
  // header, of the payload or of the trailer. Empty only when poisoned (or for
  // max_bytes == 0). Valid until the next call of any non-const member.
  std::span<uint8_t> Prepare(size_t max_bytes);
  // `n` bytes were written at the start of the last Prepare()'s span.
  // REQUIRES: n <= that span's size.
  Status Commit(size_t n);

  // Consumes all of `bytes` (Prepare, copy, Commit until done). Frames completed
  // before an error stay available via Next().
  Status Feed(std::span<const uint8_t> bytes);

  // The stream ended. OK between frames (a clean close); otherwise an error naming
  // what was cut short, e.g. "connection closed after 10 of 100 payload bytes".
  Status Finish() const;

  // The oldest complete frame, if any.
  std::optional<Frame> Next();

  // Complete frames waiting in Next().
  size_t pending() const { return ready_.size(); }
  // Bytes of the frame under construction (0 between frames).
  size_t buffered_bytes() const;

 private:
  enum class Stage { kHeader, kPayload, kTrailer };

  Status StartFrame();  // the header is complete
  Status FinishFrame();  // the trailer (if any) is complete
  Status Poison(Status why);

  uint32_t max_frame_bytes_;
  PayloadPool* pool_;
  FrameOpener* opener_ = nullptr;
  Status error_;
  Stage stage_ = Stage::kHeader;
  std::array<uint8_t, kFrameHeaderBytes> header_bytes_{};
  size_t header_fill_ = 0;
  Frame current_;
  size_t payload_fill_ = 0;
  std::vector<uint8_t> trailer_;
  size_t trailer_fill_ = 0;
  std::deque<Frame> ready_;
};

// Frame encoder: turns one payload (the pieces of an EncodedMessage) into the gather
// lists a session writes, header first and trailer last, sealing the payload as it
// goes. Without a sealer the whole frame is one batch (one scatter-gather write);
// with one, each batch holds at most `seal_chunk_bytes` of payload, sealed just before
// it is handed out, so the sender's MAC pass overlaps with the transfer and with the
// receiver's.
class FrameEncoder {
 public:
  static constexpr size_t kDefaultSealChunkBytes = size_t{1} << 20;
  explicit FrameEncoder(size_t seal_chunk_bytes = kDefaultSealChunkBytes);

  FrameEncoder(const FrameEncoder&) = delete;
  FrameEncoder& operator=(const FrameEncoder&) = delete;

  // The stage every later frame goes through (null: no trailer). Not owned.
  // REQUIRES: between frames.
  void set_sealer(FrameSealer* sealer);

  // Starts a frame around `payload`; the pieces' memory must stay valid until the
  // frame is done. Abandons an unfinished frame.
  // REQUIRES: the total size fits in the u32 length field.
  void Begin(std::vector<std::span<const uint8_t>> payload);

  // The next bytes to write, in order; empty once the frame is complete. Valid until
  // the next call.
  const std::vector<std::span<const uint8_t>>& NextBatch();

  // Whole frame on the wire, in bytes (after Begin).
  size_t frame_bytes() const { return frame_bytes_; }

 private:
  size_t seal_chunk_bytes_;
  FrameSealer* sealer_ = nullptr;
  std::array<uint8_t, kFrameHeaderBytes> header_{};
  std::vector<std::span<const uint8_t>> pieces_;
  size_t piece_ = 0;         // next piece to hand out
  size_t piece_offset_ = 0;  // bytes of pieces_[piece_] already handed out
  bool header_sent_ = false;
  bool done_ = true;
  size_t frame_bytes_ = 0;
  std::vector<uint8_t> trailer_;
  std::vector<std::span<const uint8_t>> batch_;
};

}  // namespace grapevine::proto
