#include "agent/core/clock.h"

#include <vector>

namespace grapevine::agent::core {

namespace {
// The ManualClock the current thread registered with (RegisterThread), if any.
thread_local const ManualClock* t_registered_on = nullptr;
}  // namespace

void Clock::SleepFor(Duration d) {
  std::mutex m;
  std::condition_variable cv;
  std::unique_lock<std::mutex> lock(m);
  WaitUntil(lock, cv, Now() + d, [] { return false; });
}

ManualClock::~ManualClock() = default;

TimePoint ManualClock::Now() const {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

bool ManualClock::WaitUntil(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                            TimePoint deadline, const std::function<bool()>& ready) {
  auto w = std::make_shared<Waiter>();
  w->mutex = lock.mutex();
  w->cv = &cv;
  w->deadline = deadline;
  w->registered = t_registered_on == this;
  {
    std::lock_guard<std::mutex> g(mu_);
    waiters_.push_back(w);
  }
  bool ok = false;
  while (true) {
    ok = ready();
    if (ok) break;
    {
      std::lock_guard<std::mutex> g(mu_);
      if (now_ >= deadline) break;
      w->blocked = true;
      w->seen = kicks_;
    }
    Changed();
    // Whoever wakes us (Advance, Kick, the owner of `cv`) holds `lock`'s mutex while
    // notifying, so no wake-up is lost between the check above and this wait.
    cv.wait(lock);
    std::lock_guard<std::mutex> g(mu_);
    w->blocked = false;
  }
  // Retire the waiter without holding `lock`: WakeAll takes w->alive_mu, then the
  // waiter's mutex, so we must not hold the mutex while taking alive_mu.
  lock.unlock();
  {
    std::lock_guard<std::mutex> a(w->alive_mu);
    w->alive = false;
  }
  {
    std::lock_guard<std::mutex> g(mu_);
    waiters_.remove(w);
  }
  Changed();
  lock.lock();
  return ok;
}

void ManualClock::RegisterThread() {
  t_registered_on = this;
  {
    std::lock_guard<std::mutex> g(mu_);
    ++registered_;
    if (hold_until_ > 0) --hold_until_;
  }
  Changed();
}

void ManualClock::UnregisterThread() {
  if (t_registered_on == this) t_registered_on = nullptr;
  {
    std::lock_guard<std::mutex> g(mu_);
    --registered_;
  }
  Changed();
}

void ManualClock::Advance(Duration d) {
  {
    std::lock_guard<std::mutex> g(mu_);
    now_ += d;
  }
  WakeAll();
}

void ManualClock::AdvanceTo(TimePoint t) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (t <= now_) return;
    now_ = t;
  }
  WakeAll();
}

void ManualClock::Kick() {
  {
    std::lock_guard<std::mutex> g(mu_);
    ++kicks_;
  }
  WakeAll();
}

void ManualClock::HoldUntilRegistered(int threads) {
  std::lock_guard<std::mutex> g(mu_);
  hold_until_ = threads;
}

bool ManualClock::Quiescent() const {
  std::lock_guard<std::mutex> g(mu_);
  if (hold_until_ > 0) return false;
  int waiting = 0;
  for (const auto& w : waiters_) {
    if (!w->registered) continue;
    if (!w->blocked || w->seen != kicks_) return false;
    ++waiting;
  }
  return waiting == registered_;
}

std::optional<TimePoint> ManualClock::NextDeadline() const {
  std::lock_guard<std::mutex> g(mu_);
  std::optional<TimePoint> next;
  for (const auto& w : waiters_) {
    if (w->deadline > now_ && (!next || w->deadline < *next)) next = w->deadline;
  }
  return next;
}

void ManualClock::SetOnChange(std::function<void()> on_change) {
  std::lock_guard<std::mutex> g(mu_);
  on_change_ = std::move(on_change);
}

void ManualClock::WakeAll() {
  std::vector<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard<std::mutex> g(mu_);
    waiters.assign(waiters_.begin(), waiters_.end());
  }
  // Taking each waiter's mutex before notifying: it is either before its predicate
  // check (and will see the new state) or inside cv.wait (and gets the notification).
  // A waiter of this thread itself is not blocked (it cannot be: we are running).
  for (const auto& w : waiters) {
    std::lock_guard<std::mutex> a(w->alive_mu);
    if (!w->alive) continue;  // its wait ended; the mutex may be gone
    std::lock_guard<std::mutex> g(*w->mutex);
    w->cv->notify_all();
  }
}

void ManualClock::Changed() {
  std::function<void()> cb;
  {
    std::lock_guard<std::mutex> g(mu_);
    cb = on_change_;
  }
  if (cb) cb();
}

}  // namespace grapevine::agent::core
