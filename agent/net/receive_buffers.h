// ReceiveBuffers: the memory big frames of one connection are read into.
//
// The connection's proto::FrameDecoder takes the payload of every frame of at least
// proto::kPooledFrameBytes from here (this is its proto::PayloadPool). A model frame
// is read into such a buffer and decoded without copying (the
// model's values view the buffer, proto::Decode(payload, block)). The buffer goes
// back to this pool when the last array viewing it is gone, on whatever thread
// that happens, and the next big frame reuses it: its pages are already faulted
// in, so a steady stream of models costs neither a copy nor page faults. The pool
// keeps one idle buffer (the last one returned that is big enough); a buffer that
// comes back while one is already idle is freed, so the idle memory of a
// connection is at most one frame.
//
// Thread-safety: Acquire() and Close() are called by the owning connection (the
// network thread); buffers may be released from any thread. Internally locked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>

#include "proto/frame_stage.h"

namespace grapevine::agent::net {

class ReceiveBuffers final : public proto::PayloadPool,
                             public std::enable_shared_from_this<ReceiveBuffers> {
 public:
  // A buffer of at least `bytes` bytes (contents unspecified, 64-byte aligned). It
  // returns to the pool when the shared_ptr and all its copies are gone.
  std::shared_ptr<uint8_t> Acquire(size_t bytes) override;

  // Frees the idle buffer; buffers released after this are freed, not kept
  // (Acquire still works, without reuse).
  void Close();

  ~ReceiveBuffers() override;

  // Bytes held idle (tests, stats).
  size_t idle_bytes() const;
  // Buffers allocated (not reused) so far.
  uint64_t allocations() const;

 private:
  struct Block {
    uint8_t* data = nullptr;
    size_t capacity = 0;
  };
  static Block Allocate(size_t bytes);
  static void Free(Block b);
  void Return(Block b);

  mutable std::mutex mu_;
  Block idle_;
  bool closed_ = false;
  uint64_t allocations_ = 0;
};

}  // namespace grapevine::agent::net
