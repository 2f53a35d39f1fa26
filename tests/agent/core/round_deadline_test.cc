#include "agent/core/round_deadline.h"

#include <gtest/gtest.h>

namespace grapevine::agent::core {
namespace {

using proto::NodeId;
using std::chrono::milliseconds;

class RoundDeadlineTest : public ::testing::Test {
 protected:
  // One round where each (neighbour, latency) arrives; returns that round's deadline.
  Duration Round(RoundDeadline& d, uint64_t round,
                 const std::vector<std::pair<NodeId, Duration>>& arrivals,
                 const std::vector<NodeId>& expected) {
    d.StartRound(round, expected, clock_.Now());
    const Duration deadline = d.CurrentDeadline();
    const TimePoint start = clock_.Now();
    for (const auto& [n, latency] : arrivals) {
      EXPECT_TRUE(d.OnArrival(n, round, start + latency));
    }
    clock_.Advance(deadline);
    return deadline;
  }
  ManualClock clock_;
};

TEST_F(RoundDeadlineTest, StartsAtInitialEstimate) {
  RoundDeadline d;
  d.StartRound(1, {7}, clock_.Now());
  EXPECT_EQ(d.CurrentDeadline(), milliseconds(1000));
  EXPECT_EQ(d.DeadlineAt(), clock_.Now() + milliseconds(1000));
}

TEST_F(RoundDeadlineTest, FirstSampleThenConvergesToSteadyLatency) {
  RoundDeadline d;
  Round(d, 1, {{7, milliseconds(100)}}, {7});
  EXPECT_EQ(d.Estimate(7), milliseconds(300));  // RFC 6298: mean 100, dev 50
  for (uint64_t r = 2; r < 60; ++r) Round(d, r, {{7, milliseconds(100)}}, {7});
  using Ms = std::chrono::duration<double, std::milli>;
  EXPECT_NEAR(Ms(d.Estimate(7)).count(), 100.0, 1.0);
}

TEST_F(RoundDeadlineTest, JitterWidensTheDeadline) {
  RoundDeadline steady, jittery;
  for (uint64_t r = 1; r < 40; ++r) {
    Round(steady, r, {{1, milliseconds(100)}}, {1});
    Round(jittery, r, {{1, milliseconds(r % 2 ? 50 : 150)}}, {1});
  }
  EXPECT_GT(jittery.Estimate(1), steady.Estimate(1) + milliseconds(100));
}

TEST_F(RoundDeadlineTest, DeadlineIsSlowestNeighbourClamped) {
  RoundDeadlineConfig config;
  config.max = milliseconds(500);
  RoundDeadline d(config);
  for (uint64_t r = 1; r < 40; ++r) {
    Round(d, r, {{1, milliseconds(40)}, {2, milliseconds(200)}}, {1, 2});
  }
  d.StartRound(40, {1, 2}, clock_.Now());
  EXPECT_EQ(d.CurrentDeadline(), d.Estimate(2));
  EXPECT_GT(d.Estimate(2), d.Estimate(1));
  d.StartRound(41, {1, 2, 3}, clock_.Now());  // 3 unknown: initial 1 s, clamped to 500 ms
  EXPECT_EQ(d.CurrentDeadline(), milliseconds(500));
  d.StartRound(42, {}, clock_.Now());  // nobody to wait for: the minimum
  EXPECT_EQ(d.CurrentDeadline(), config.min);
}

TEST_F(RoundDeadlineTest, DoneWhenAllArrivedOrDeadlinePassed) {
  RoundDeadline d;
  const TimePoint start = clock_.Now();
  d.StartRound(1, {1, 2}, start);
  EXPECT_FALSE(d.Done(start));
  d.OnArrival(1, 1, start + milliseconds(10));
  EXPECT_FALSE(d.Done(start + milliseconds(10)));
  EXPECT_EQ(d.Missing(), std::vector<NodeId>{2});
  // Never waits forever on a silent neighbour.
  EXPECT_TRUE(d.Done(d.DeadlineAt()));
  d.OnArrival(2, 1, start + milliseconds(20));
  EXPECT_TRUE(d.Done(start + milliseconds(20)));
}

TEST_F(RoundDeadlineTest, MissedRoundsWidenTheEstimateUpToMax) {
  RoundDeadlineConfig config;
  config.max = milliseconds(2000);
  RoundDeadline d(config);
  for (uint64_t r = 1; r < 30; ++r) Round(d, r, {{1, milliseconds(50)}}, {1});
  const Duration before = d.Estimate(1);
  Round(d, 30, {}, {1});  // 1 misses round 30 ...
  Round(d, 31, {}, {1});  // ... is charged for it when 31 starts, and misses 31 too
  EXPECT_GT(d.Estimate(1), before);
  for (uint64_t r = 32; r < 120; ++r) Round(d, r, {}, {1});
  EXPECT_EQ(d.Estimate(1), milliseconds(2000));
}

TEST_F(RoundDeadlineTest, StaleModelsAreSkipped) {
  RoundDeadline d;  // staleness 2
  d.StartRound(10, {1}, clock_.Now());
  EXPECT_TRUE(d.IsStale(7));
  EXPECT_FALSE(d.IsStale(8));
  EXPECT_FALSE(d.OnArrival(1, 7, clock_.Now()));
  EXPECT_EQ(d.Missing(), std::vector<NodeId>{1});  // a stale model does not count
  EXPECT_TRUE(d.OnArrival(1, 9, clock_.Now()));    // usable, but not this round's
  EXPECT_EQ(d.Missing(), std::vector<NodeId>{1});
  EXPECT_TRUE(d.OnArrival(1, 11, clock_.Now()));  // ahead of us: counts
  EXPECT_TRUE(d.Missing().empty());
}

TEST_F(RoundDeadlineTest, ForgetDropsHistoryAndWaiting) {
  RoundDeadline d;
  Round(d, 1, {{1, milliseconds(100)}}, {1});
  d.StartRound(2, {1}, clock_.Now());
  d.Forget(1);
  EXPECT_TRUE(d.Done(clock_.Now()));
  EXPECT_EQ(d.Estimate(1), milliseconds(1000));
}

}  // namespace
}  // namespace grapevine::agent::core
