#include "agent/sim/sim_loop.h"

#include <memory>

namespace grapevine::agent::sim {

SimLoop::SimLoop(core::ManualClock& clock) : clock_(clock) {
  clock_.SetOnChange([this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++changes_;
    }
    cv_.notify_all();
  });
}

SimLoop::~SimLoop() { clock_.SetOnChange(nullptr); }

void SimLoop::Post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(fn));
    ++changes_;
  }
  cv_.notify_all();
}

void SimLoop::At(core::TimePoint t, std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    timers_.emplace(t, std::move(fn));
    ++changes_;
  }
  cv_.notify_all();
}

void SimLoop::Every(core::Duration period, std::function<bool()> alive,
                    std::function<void()> fn) {
  auto tick = std::make_shared<std::function<void()>>();
  // The timer holds the only owning reference to itself through its own capture;
  // a weak self-reference breaks the cycle so a dead timer is freed.
  std::weak_ptr<std::function<void()>> weak = tick;
  *tick = [this, period, alive = std::move(alive), fn = std::move(fn), weak] {
    if (!alive()) return;
    fn();
    if (auto self = weak.lock()) At(clock_.Now() + period, [self] { (*self)(); });
  };
  At(clock_.Now() + period, [tick] { (*tick)(); });
}

bool SimLoop::PopDue(std::function<void()>* task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!tasks_.empty()) {
    *task = std::move(tasks_.front());
    tasks_.pop_front();
    return true;
  }
  if (!timers_.empty() && timers_.begin()->first <= clock_.Now()) {
    *task = std::move(timers_.begin()->second);
    timers_.erase(timers_.begin());
    return true;
  }
  return false;
}

bool SimLoop::RunUntil(const std::function<bool()>& done, core::Duration limit) {
  const core::TimePoint until = clock_.Now() + limit;
  while (true) {
    if (done()) return true;
    std::function<void()> task;
    if (PopDue(&task)) {
      task();
      ++tasks_run_;
      clock_.Kick();  // waiters re-check: the task may have delivered what they wait for
      continue;
    }
    uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = changes_;
    }
    if (clock_.Quiescent()) {
      std::optional<core::TimePoint> next = clock_.NextDeadline();
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (!timers_.empty() && (!next || timers_.begin()->first < *next)) {
          next = timers_.begin()->first;
        }
      }
      if (next && *next > until) {
        clock_.AdvanceTo(until);  // nothing happens before the limit
        return done();
      }
      if (next) {
        clock_.AdvanceTo(*next);
        continue;
      }
      // Nothing scheduled at all: wait for another thread to post or wait (an agent
      // that is still starting).
    }
    // Someone is still computing: wait for a post, a timer, or a waiter to settle.
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return changes_ != seen || !tasks_.empty(); });
  }
}

}  // namespace grapevine::agent::sim
