// Injected time source for the agent (DESIGN §2): every wait of the protocol code and
// of the training thread goes through one Clock, so the same Node runs on real time in
// `grapevine agent` and on virtual time in tests and simulations.
//
// Protocol state machines (Membership, RoundDeadline) never read a clock: their
// callers pass `now`. The Node reads its Clock and waits on it (WaitUntil) instead of
// calling std::chrono::steady_clock or a condition variable's timed wait directly.
//
//  - SteadyClock: the real monotonic clock. Stateless, safe from any thread.
//  - ManualClock: a clock that only moves when told to (Advance/AdvanceTo). Safe from
//    any thread. A wait on it ends when its predicate holds (someone notified the
//    condition variable) or when the clock is advanced past its deadline; no test ever
//    sleeps. For drivers of whole simulated swarms (agent/sim/sim_loop.h) it also
//    knows whether every registered thread is waiting (Quiescent), and the earliest
//    deadline any thread waits for (NextDeadline), so virtual time moves only when no
//    thread can make progress.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>

namespace grapevine::agent::core {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
  // Blocks until ready() holds or Now() >= deadline. `lock` holds the mutex that `cv`
  // is notified under and that guards what ready() reads; it is held again on return
  // (ManualClock releases it for a moment at the end). Returns ready() as last seen.
  virtual bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                         TimePoint deadline, const std::function<bool()>& ready) = 0;
  // A thread whose progress virtual time must wait for (the Node's training thread)
  // brackets its life with these. No-ops on the real clock.
  virtual void RegisterThread() {}
  virtual void UnregisterThread() {}

  // Waits `d` on this clock (nothing to wake it early).
  void SleepFor(Duration d);
};

// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline, const std::function<bool()>& ready) override {
    return cv.wait_until(lock, deadline, ready);
  }
};

// Starts at an arbitrary fixed epoch so that time points in tests are reproducible.
class ManualClock final : public Clock {
 public:
  ManualClock() = default;
  explicit ManualClock(TimePoint start) : now_(start) {}
  ~ManualClock() override;

  TimePoint Now() const override;
  bool WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                 TimePoint deadline, const std::function<bool()>& ready) override;
  void RegisterThread() override;
  void UnregisterThread() override;

  // REQUIRES: d >= 0 (a steady clock never goes back). Wakes waiters whose deadline
  // passed.
  void Advance(Duration d);
  // No-op when t <= Now().
  void AdvanceTo(TimePoint t);

  // ---- for simulation drivers ----
  // Something changed that waiters may want to re-check (a message was delivered):
  // wakes every waiter once; Quiescent() is false until each re-checked and waits again.
  void Kick();
  // Every registered thread is waiting and has re-checked its predicate since the last
  // Kick(). True when no thread is registered — unless a hold is in force.
  bool Quiescent() const;
  // Time stands still (Quiescent() is false) until `threads` threads have registered
  // since this call: a driver starting several agents keeps the first ones from
  // running ahead in virtual time while the last are still starting.
  void HoldUntilRegistered(int threads);
  // The earliest deadline any thread waits for, if one does.
  std::optional<TimePoint> NextDeadline() const;
  // Called (without the clock's lock held) whenever a thread starts or stops waiting or
  // a thread registers or unregisters: a driver waiting for quiescence re-checks.
  void SetOnChange(std::function<void()> on_change);

 private:
  struct Waiter {
    std::mutex* mutex = nullptr;
    std::condition_variable* cv = nullptr;
    TimePoint deadline;
    bool registered = false;  // the waiting thread is a registered one
    bool blocked = false;
    uint64_t seen = 0;        // kicks_ when it last found its predicate false
    std::mutex alive_mu;      // guards alive; taken before `mutex`, never after
    bool alive = true;        // false once the wait returned
  };
  void WakeAll();
  void Changed();

  mutable std::mutex mu_;
  TimePoint now_{std::chrono::hours(1)};
  std::list<std::shared_ptr<Waiter>> waiters_;
  int registered_ = 0;
  int hold_until_ = 0;  // registrations still awaited by HoldUntilRegistered
  uint64_t kicks_ = 0;
  std::function<void()> on_change_;
};

}  // namespace grapevine::agent::core
