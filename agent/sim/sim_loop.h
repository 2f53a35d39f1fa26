// SimLoop: the "network thread" of every agent of an in-process simulated swarm, on
// virtual time (a core::ManualClock).
//
// Tasks (Post) and timers (At, Every) of all agents run here, one at a time, on the
// thread that calls RunUntil(). Virtual time moves only when nothing can run: no task
// is queued and every thread registered with the clock (each Node's training thread)
// waits on it with nothing new to see (ManualClock::Quiescent). Time then jumps to the
// earliest timer or wait deadline. So compute is free and message delivery instant
// unless a link adds latency (memory_transport.h), and no exchange ever times out
// while a neighbour is still computing — a run's outcome does not depend on how fast
// this machine is.
//
// Thread-safety: Post() and At() may be called from any thread; RunUntil() from one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <utility>

#include "agent/core/clock.h"

namespace grapevine::agent::sim {

class SimLoop {
 public:
  // REQUIRES: clock outlives the loop; the loop installs its change callback.
  explicit SimLoop(core::ManualClock& clock);
  ~SimLoop();
  SimLoop(const SimLoop&) = delete;
  SimLoop& operator=(const SimLoop&) = delete;

  core::ManualClock& clock() { return clock_; }

  void Post(std::function<void()> fn);
  // Runs fn on the loop at virtual time t (now, if t has passed).
  void At(core::TimePoint t, std::function<void()> fn);
  // Runs fn every `period` from now on, while alive() returns true.
  void Every(core::Duration period, std::function<bool()> alive, std::function<void()> fn);

  // Runs tasks and advances virtual time until done() holds (checked between tasks) or
  // `limit` of virtual time passed (the clock then stands at the limit). Returns
  // whether done() held.
  bool RunUntil(const std::function<bool()>& done, core::Duration limit);

  uint64_t tasks_run() const { return tasks_run_; }

 private:
  // Pops the next task that is due (a queued task, else a timer at or before now).
  bool PopDue(std::function<void()>* task);

  core::ManualClock& clock_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::multimap<core::TimePoint, std::function<void()>> timers_;
  uint64_t changes_ = 0;  // bumped by Post/At and by clock waiter changes
  uint64_t tasks_run_ = 0;
};

}  // namespace grapevine::agent::sim
