// Injected time source for the agent's protocol code.
//
// Protocol state machines (Membership, RoundDeadline) never read a clock: their
// callers pass `now`. The node owns one Clock and reads it on the network thread;
// tests and the in-process simulation own a ManualClock and advance it by hand, so
// no test ever sleeps.
//
// Thread-safety: SteadyClock is stateless and safe from any thread. ManualClock is
// not synchronised; use it from one thread (tests, the simulator).
#pragma once

#include <chrono>

namespace grapevine::agent::core {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint Now() const = 0;
};

// The real monotonic clock.
class SteadyClock final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
};

// A clock that only moves when told to. Starts at an arbitrary fixed epoch so that
// time points in tests are reproducible.
class ManualClock final : public Clock {
 public:
  ManualClock() = default;
  explicit ManualClock(TimePoint start) : now_(start) {}
  TimePoint Now() const override { return now_; }
  // REQUIRES: d >= 0 (a steady clock never goes back).
  void Advance(Duration d) { now_ += d; }

 private:
  TimePoint now_{std::chrono::hours(1)};
};

}  // namespace grapevine::agent::core
