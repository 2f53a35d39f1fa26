#include "agent/net/receive_buffers.h"

#include <cstdlib>
#include <new>
#include <utility>

namespace grapevine::agent::net {

namespace {
constexpr size_t kAlignment = 64;
}  // namespace

ReceiveBuffers::Block ReceiveBuffers::Allocate(size_t bytes) {
  // Uninitialised on purpose: pages are committed only as the frame's bytes arrive.
  size_t capacity = (bytes + kAlignment - 1) / kAlignment * kAlignment;
  if (capacity == 0) capacity = kAlignment;
  void* p = std::aligned_alloc(kAlignment, capacity);
  if (p == nullptr) throw std::bad_alloc();
  return Block{static_cast<uint8_t*>(p), capacity};
}

void ReceiveBuffers::Free(Block b) { std::free(b.data); }

std::shared_ptr<uint8_t> ReceiveBuffers::Acquire(size_t bytes) {
  Block b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.data != nullptr && idle_.capacity >= bytes) {
      b = std::exchange(idle_, Block{});
    } else {
      ++allocations_;
    }
  }
  if (b.data == nullptr) b = Allocate(bytes);
  // The deleter keeps the pool alive until the buffer is back.
  auto self = shared_from_this();
  return std::shared_ptr<uint8_t>(b.data, [self, capacity = b.capacity](uint8_t* p) {
    self->Return(Block{p, capacity});
  });
}

void ReceiveBuffers::Return(Block b) {
  Block drop = b;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_ && (idle_.data == nullptr || idle_.capacity < b.capacity)) {
      drop = std::exchange(idle_, b);  // keep the bigger one
    }
  }
  if (drop.data != nullptr) Free(drop);
}

void ReceiveBuffers::Close() {
  Block drop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    drop = std::exchange(idle_, Block{});
  }
  if (drop.data != nullptr) Free(drop);
}

ReceiveBuffers::~ReceiveBuffers() {
  if (idle_.data != nullptr) Free(idle_);
}

size_t ReceiveBuffers::idle_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return idle_.capacity;
}

uint64_t ReceiveBuffers::allocations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return allocations_;
}

}  // namespace grapevine::agent::net
