#include "agent/core/membership_config.h"

#include <gtest/gtest.h>

namespace grapevine::agent::core {
namespace {

using std::chrono::milliseconds;

TEST(SuspicionTimeout, GrowsWithLog10OfClusterSizeWithinBounds) {
  MembershipConfig c;  // 1 s interval, mult 4, [2 s, 60 s]
  struct Row {
    std::size_t n;
    Duration want;
  };
  const Row table[] = {
      {1, milliseconds(2000)},     // 4 * 0.301 s = 1.20 s -> clamped to the minimum
      {2, milliseconds(2000)},     // 1.91 s -> minimum
      {3, milliseconds(2408)},     // 4 * log10(4)
      {9, milliseconds(4000)},     // 4 * log10(10)
      {99, milliseconds(8000)},    // 4 * log10(100)
      {999, milliseconds(12000)},  // 4 * log10(1000)
  };
  for (const Row& row : table) {
    const auto got = std::chrono::duration_cast<milliseconds>(SuspicionTimeout(c, row.n));
    EXPECT_EQ(got, row.want) << "n=" << row.n;
  }
  c.suspicion_max = milliseconds(10000);
  EXPECT_EQ(SuspicionTimeout(c, 999), milliseconds(10000));  // clamped to the maximum
}

TEST(SuspicionTimeout, ScalesWithProbeInterval) {
  MembershipConfig c = MembershipConfig::Fast();  // 100 ms, [200 ms, 6 s]
  EXPECT_EQ(SuspicionTimeout(c, 9), milliseconds(400));
  EXPECT_EQ(SuspicionTimeout(c, 1), milliseconds(200));
}

TEST(RetransmitLimit, MultTimesCeilLog10) {
  MembershipConfig c;  // mult 4
  struct Row {
    std::size_t n;
    int want;
  };
  const Row table[] = {{0, 1}, {1, 4}, {9, 4}, {10, 8}, {99, 8}, {100, 12}, {5000, 16}};
  for (const Row& row : table) EXPECT_EQ(RetransmitLimit(c, row.n), row.want) << row.n;
  c.retransmit_mult = 1;
  EXPECT_EQ(RetransmitLimit(c, 20), 2);
}

TEST(MembershipConfig, PresetsAreConsistent) {
  for (const MembershipConfig& c : {MembershipConfig::Lan(), MembershipConfig::Fast()}) {
    EXPECT_LT(c.probe_timeout, c.probe_interval);
    EXPECT_LE(c.suspicion_min, c.suspicion_max);
    EXPECT_GT(c.push_pull_interval, c.probe_interval);
    EXPECT_GE(c.join_attach_k, 1);
    EXPECT_LE(c.min_degree, c.max_degree);
  }
  EXPECT_EQ(MembershipConfig::Fast().probe_interval * 10, MembershipConfig::Lan().probe_interval);
}

}  // namespace
}  // namespace grapevine::agent::core
