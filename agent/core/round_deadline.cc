#include "agent/core/round_deadline.h"

#include <algorithm>
#include <cmath>

namespace grapevine::agent::core {

RoundDeadline::RoundDeadline(RoundDeadlineConfig config) : config_(config) {
  round_deadline_ = Clamp(static_cast<double>(config_.initial.count()));
}

Duration RoundDeadline::Clamp(double ns) const {
  const Duration d(static_cast<Duration::rep>(std::llround(ns)));
  return std::clamp(d, config_.min, config_.max);
}

void RoundDeadline::Sample(proto::NodeId n, Duration latency) {
  const double r = static_cast<double>(latency.count());
  auto it = estimators_.find(n);
  if (it == estimators_.end()) {  // RFC 6298: first sample sets mean = R, dev = R/2
    estimators_.emplace(n, Estimator{r, r / 2.0});
    return;
  }
  Estimator& e = it->second;
  e.dev_ns = (1.0 - config_.beta) * e.dev_ns + config_.beta * std::abs(e.mean_ns - r);
  e.mean_ns = (1.0 - config_.alpha) * e.mean_ns + config_.alpha * r;
}

Duration RoundDeadline::Estimate(proto::NodeId n) const {
  auto it = estimators_.find(n);
  if (it == estimators_.end()) return Clamp(static_cast<double>(config_.initial.count()));
  return Clamp(it->second.mean_ns + config_.dev_mult * it->second.dev_ns);
}

void RoundDeadline::StartRound(uint64_t round, std::vector<proto::NodeId> expected,
                               TimePoint now) {
  for (proto::NodeId n : waiting_) Sample(n, round_deadline_);  // missed the last round
  round_ = round;
  round_start_ = now;
  waiting_ = std::set<proto::NodeId>(expected.begin(), expected.end());
  Duration longest = config_.min;
  for (proto::NodeId n : waiting_) longest = std::max(longest, Estimate(n));
  round_deadline_ = std::clamp(longest, config_.min, config_.max);
}

bool RoundDeadline::IsStale(uint64_t their_round) const {
  return their_round + config_.staleness < round_;
}

bool RoundDeadline::OnArrival(proto::NodeId from, uint64_t their_round, TimePoint now) {
  if (IsStale(their_round)) return false;
  if (their_round >= round_ && waiting_.erase(from) != 0) {
    Sample(from, std::max(Duration(0), Duration(now - round_start_)));
  }
  return true;
}

bool RoundDeadline::Done(TimePoint now) const {
  return waiting_.empty() || now >= DeadlineAt();
}

std::vector<proto::NodeId> RoundDeadline::Missing() const {
  return std::vector<proto::NodeId>(waiting_.begin(), waiting_.end());
}

void RoundDeadline::Forget(proto::NodeId n) {
  estimators_.erase(n);
  waiting_.erase(n);
}

}  // namespace grapevine::agent::core
