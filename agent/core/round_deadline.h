// RoundDeadline: how long a node waits for its neighbours' models in one round.
//
// Rounds are local (DESIGN §6): a node merges whatever arrived within an adaptive
// deadline and never waits forever. Per neighbour it keeps an estimate of the arrival
// latency (time from the start of our round to that neighbour's model arriving) as
// TCP does for its retransmission timeout (RFC 6298): a smoothed mean and a smoothed
// mean deviation, updated with gains alpha = 1/8 and beta = 1/4. The round's deadline
// is clamp(max over expected neighbours of (mean + 4 * dev), min, max); a neighbour
// with no sample yet counts as `initial`. A neighbour that misses a round is charged
// the deadline it missed as a (censored) sample, so a slow node widens its own
// estimate instead of being cut off for ever. A model from a round more than
// `staleness` rounds behind ours is stale and skipped.
//
// Pure: callers pass time points (ManualClock in tests). Owned by the training-side
// scheduler of one node; not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "agent/core/clock.h"
#include "proto/messages.h"

namespace grapevine::agent::core {

struct RoundDeadlineConfig {
  Duration min = std::chrono::milliseconds(20);   // never give up sooner than this
  Duration max = std::chrono::seconds(10);        // never wait longer than this
  Duration initial = std::chrono::seconds(1);     // estimate before any sample
  double alpha = 1.0 / 8.0;                       // gain of the mean
  double beta = 1.0 / 4.0;                        // gain of the deviation
  double dev_mult = 4.0;                          // deadline = mean + dev_mult * dev
  uint64_t staleness = 2;                         // rounds a model may lag behind ours
};

class RoundDeadline {
 public:
  explicit RoundDeadline(RoundDeadlineConfig config = {});

  // Begins waiting for `round` from `expected` (the live neighbours) at `now`.
  // Neighbours that never delivered the previous round are charged its deadline.
  void StartRound(uint64_t round, std::vector<proto::NodeId> expected, TimePoint now);

  // A model from `from` for `their_round` arrived at `now`. Returns false when it is
  // stale (their_round + staleness < current round) and must be skipped. A model for
  // the current round (or a newer one) from an expected neighbour completes that
  // neighbour and feeds its latency estimate.
  bool OnArrival(proto::NodeId from, uint64_t their_round, TimePoint now);

  // Whether a model of `their_round` is too old to merge in the current round.
  bool IsStale(uint64_t their_round) const;

  // When to stop waiting in the current round.
  TimePoint DeadlineAt() const { return round_start_ + round_deadline_; }
  Duration CurrentDeadline() const { return round_deadline_; }
  // True when every expected neighbour delivered or the deadline passed.
  bool Done(TimePoint now) const;
  std::vector<proto::NodeId> Missing() const;

  // The deadline this neighbour alone would get: clamp(mean + k*dev, min, max).
  Duration Estimate(proto::NodeId n) const;
  // Drops a neighbour's history (it died or left).
  void Forget(proto::NodeId n);
  uint64_t round() const { return round_; }

 private:
  struct Estimator {
    double mean_ns = 0.0;
    double dev_ns = 0.0;
  };
  void Sample(proto::NodeId n, Duration latency);
  Duration Clamp(double ns) const;

  RoundDeadlineConfig config_;
  std::map<proto::NodeId, Estimator> estimators_;
  uint64_t round_ = 0;
  TimePoint round_start_{};
  Duration round_deadline_{0};
  std::set<proto::NodeId> waiting_;
};

}  // namespace grapevine::agent::core
