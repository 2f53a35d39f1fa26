// ReceiveBuffers: a released buffer is reused (no fresh pages per model), a held one
// never is, at most one idle buffer is kept, and Close() stops keeping any.
#include "agent/net/receive_buffers.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <thread>

namespace grapevine::agent::net {
namespace {

TEST(ReceiveBuffersTest, ReleasedBufferIsReused) {
  auto pool = std::make_shared<ReceiveBuffers>();
  uint8_t* first = nullptr;
  {
    auto b = pool->Acquire(1000);
    first = b.get();
    EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
    EXPECT_EQ(pool->idle_bytes(), 0u);
  }
  EXPECT_GE(pool->idle_bytes(), 1000u);
  auto again = pool->Acquire(800);  // smaller fits too
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(pool->allocations(), 1u);
}

TEST(ReceiveBuffersTest, HeldBufferIsNeverHandedOutTwice) {
  auto pool = std::make_shared<ReceiveBuffers>();
  auto a = pool->Acquire(4096);
  auto alias = a;  // e.g. a decoded model's values
  a.reset();
  auto b = pool->Acquire(4096);
  EXPECT_NE(b.get(), alias.get());
  EXPECT_EQ(pool->allocations(), 2u);
  alias.reset();
  EXPECT_GE(pool->idle_bytes(), 4096u);
}

TEST(ReceiveBuffersTest, KeepsOneIdleBufferTheBiggest) {
  auto pool = std::make_shared<ReceiveBuffers>();
  auto small = pool->Acquire(1 << 10);
  auto big = pool->Acquire(1 << 16);
  big.reset();
  EXPECT_EQ(pool->idle_bytes(), size_t{1} << 16);
  small.reset();  // freed: the idle one is bigger
  EXPECT_EQ(pool->idle_bytes(), size_t{1} << 16);
  auto bigger = pool->Acquire(1 << 17);  // idle one too small: a new allocation
  EXPECT_EQ(pool->allocations(), 3u);
  bigger.reset();
  EXPECT_EQ(pool->idle_bytes(), size_t{1} << 17);
}

TEST(ReceiveBuffersTest, ReleaseOnAnotherThreadAndAfterClose) {
  auto pool = std::make_shared<ReceiveBuffers>();
  auto a = pool->Acquire(1 << 12);
  std::thread([held = std::move(a)]() mutable { held.reset(); }).join();
  EXPECT_GE(pool->idle_bytes(), size_t{1} << 12);

  auto b = pool->Acquire(1 << 12);
  std::weak_ptr<ReceiveBuffers> weak = pool;
  pool->Close();
  EXPECT_EQ(pool->idle_bytes(), 0u);
  pool.reset();
  EXPECT_FALSE(weak.expired());  // the outstanding buffer keeps the pool alive
  b.reset();                     // freed, not kept
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace grapevine::agent::net
