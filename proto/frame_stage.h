// Frame stages: the pluggable per-frame crypto step of FrameEncoder / FrameDecoder
// (proto/framer.h), and the memory pool the decoder reads big payloads into.
//
// A sealer runs on the sending side of one connection direction, an opener on the
// receiving side. Each sees one frame at a time, as the bytes move: the header, then
// the payload in the pieces the encoder writes or the decoder receives, then the
// trailer it appends (sealer) or checks (opener). Protocol 1.1's stage is a Poly1305
// tag (MacStages in proto/auth.h). A stage may also transform the payload — an AEAD
// stage encrypts in SealBytes and decrypts in place in OpenBytes — so adding
// encryption means writing one more pair of these, not touching the framer or the
// sessions.
//
// Thread-safety: a stage belongs to one direction of one connection and is called by
// that direction's encoder or decoder only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "base/status.h"

namespace grapevine::proto {

class FrameSealer {
 public:
  virtual ~FrameSealer() = default;

  // Header flag bits this stage sets on every frame (e.g. kFlagMac), and the bytes
  // it appends after the payload.
  virtual uint16_t flags() const = 0;
  virtual size_t trailer_bytes() const = 0;

  // Starts the next frame; `header` is its encoded header (flags() included).
  // A Begin abandons an unfinished frame.
  virtual void BeginSeal(std::span<const uint8_t> header) = 0;
  // Payload bytes in order. Returns the bytes to put on the wire in their place, of the
  // same length: `bytes` itself for a MAC, ciphertext in the stage's own buffer for
  // an AEAD (valid until the encoder's next batch is asked for; the encoder hands out
  // at most its chunk size of payload per batch).
  virtual std::span<const uint8_t> SealBytes(std::span<const uint8_t> bytes) = 0;
  // Writes the trailer (trailer_bytes() bytes) and ends the frame.
  virtual void FinishSeal(std::span<uint8_t> trailer) = 0;
};

class FrameOpener {
 public:
  virtual ~FrameOpener() = default;

  // Flag bits every frame must carry (a frame without them is kAuthFailed), and the
  // trailer bytes that follow each payload.
  virtual uint16_t flags() const = 0;
  virtual size_t trailer_bytes() const = 0;

  virtual void BeginOpen(std::span<const uint8_t> header) = 0;
  // Payload bytes in order, as they arrive; a transforming stage rewrites them in
  // place. Nothing may be used before FinishOpen succeeded.
  virtual void OpenBytes(std::span<uint8_t> bytes) = 0;
  // Checks the trailer. An error (kAuthFailed) means: drop the connection.
  virtual Status FinishOpen(std::span<const uint8_t> trailer) = 0;
};

// The two stages of one connection, built together because they share its keys.
struct FrameStages {
  std::unique_ptr<FrameSealer> sealer;
  std::unique_ptr<FrameOpener> opener;
};

// Where FrameDecoder puts the payload of a big frame (>= kPooledFrameBytes), so that
// a session can recycle model-sized buffers (agent/net/receive_buffers.h). Acquire
// is called only after the frame's length passed the max_frame_bytes check.
class PayloadPool {
 public:
  virtual ~PayloadPool() = default;
  // At least `bytes` bytes, 8-byte aligned, contents unspecified; the memory may be
  // reused once the returned pointer and all its copies are gone.
  virtual std::shared_ptr<uint8_t> Acquire(size_t bytes) = 0;
};

}  // namespace grapevine::proto
