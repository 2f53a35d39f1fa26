#include "agent/core/member_table.h"

#include <gtest/gtest.h>

namespace grapevine::agent::core {
namespace {

constexpr MemberState kA = MemberState::kAlive;
constexpr MemberState kS = MemberState::kSuspect;
constexpr MemberState kD = MemberState::kDead;
constexpr MemberState kL = MemberState::kLeft;

TEST(MemberTable, PrecedenceRules) {
  struct Row {
    MemberState local_state;
    uint64_t local_inc;
    MemberState in_state;
    uint64_t in_inc;
    MemberState want_state;
    uint64_t want_inc;
  };
  const Row table[] = {
      {kA, 1, kS, 1, kS, 1},  // same incarnation: worse state wins
      {kS, 1, kA, 1, kS, 1},  // alive does not refute at the same incarnation
      {kS, 1, kA, 2, kA, 2},  // refutation: higher incarnation wins
      {kA, 2, kS, 1, kA, 2},  // stale suspicion ignored
      {kD, 3, kA, 3, kD, 3},  // dead is final for its incarnation
      {kD, 3, kS, 3, kD, 3},
      {kD, 3, kA, 4, kA, 4},  // ... but the node itself can come back
      {kS, 1, kD, 1, kD, 1},
      {kA, 5, kD, 4, kA, 5},
      {kL, 1, kA, 9, kL, 1},  // left is final
      {kA, 5, kL, 2, kL, 5},  // and authoritative whatever the incarnation
  };
  for (const Row& r : table) {
    MemberTable t;
    t.Apply({1, "x:1", r.local_state, r.local_inc}, TimePoint{});
    t.Apply({1, "x:1", r.in_state, r.in_inc}, TimePoint{});
    EXPECT_EQ(t.Find(1)->state, r.want_state)
        << MemberStateName(r.local_state) << "@" << r.local_inc << " + "
        << MemberStateName(r.in_state) << "@" << r.in_inc;
    EXPECT_EQ(t.Find(1)->incarnation, r.want_inc);
  }
}

TEST(MemberTable, ReportsOutcomeAndStampsStateChanges) {
  MemberTable t;
  const TimePoint t0{std::chrono::seconds(1)};
  const TimePoint t1{std::chrono::seconds(2)};
  EXPECT_EQ(t.Apply({1, "x:1", kA, 0}, t0).outcome, MemberTable::Outcome::kAdded);
  EXPECT_EQ(t.Apply({1, "x:1", kA, 0}, t1).outcome, MemberTable::Outcome::kIgnored);
  auto r = t.Apply({1, "x:1", kS, 0}, t1);
  EXPECT_EQ(r.outcome, MemberTable::Outcome::kChanged);
  EXPECT_EQ(r.old_state, kA);
  EXPECT_EQ(t.StateSince(1), t1);
  // A suspicion at a newer incarnation restarts the suspicion clock.
  const TimePoint t2{std::chrono::seconds(3)};
  t.Apply({1, "x:1", kS, 1}, t2);
  EXPECT_EQ(t.StateSince(1), t2);
}

TEST(MemberTable, IdConflictSmallerAddressWinsInAnyOrder) {
  for (bool smaller_first : {true, false}) {
    MemberTable t;
    const MemberRecord small{8, "10.0.0.1:1", kA, 0};
    const MemberRecord big{8, "10.0.0.2:1", kA, 5};
    t.Apply(smaller_first ? small : big, TimePoint{});
    auto r = t.Apply(smaller_first ? big : small, TimePoint{});
    EXPECT_EQ(t.Find(8)->addr, small.addr);
    EXPECT_EQ(t.Find(8)->incarnation, 0u);
    if (!smaller_first) {
      EXPECT_EQ(r.outcome, MemberTable::Outcome::kReplaced);
      EXPECT_EQ(r.old_addr, big.addr);
    } else {
      EXPECT_EQ(r.outcome, MemberTable::Outcome::kIgnored);
    }
  }
}

TEST(MemberTable, MissingAddressIsFilledWithoutStateChange) {
  MemberTable t;
  t.Apply({3, "", kS, 2}, TimePoint{});
  EXPECT_EQ(t.Apply({3, "h:3", kA, 1}, TimePoint{}).outcome, MemberTable::Outcome::kAddrOnly);
  EXPECT_EQ(t.Find(3)->addr, "h:3");
  EXPECT_EQ(t.Find(3)->state, kS);
}

TEST(MemberTable, LiveGraphDropsDeadAndLeftEndpoints) {
  MemberTable t;
  for (NodeId i = 0; i < 5; ++i) t.Apply({i, "h:" + std::to_string(i), kA, 0}, TimePoint{});
  for (NodeId i = 0; i < 5; ++i) t.AddEdge(MakeEdge(i, (i + 1) % 5));  // ring
  EXPECT_FALSE(t.AddEdge(MakeEdge(1, 0)));                             // union: known
  EXPECT_EQ(t.LiveEdges().size(), 5u);
  t.Apply({2, "h:2", kS, 0}, TimePoint{});  // suspect still counts
  EXPECT_EQ(t.LiveDegree(1), 2u);
  t.Apply({2, "h:2", kD, 0}, TimePoint{});
  t.Apply({4, "h:4", kL, 0}, TimePoint{});
  EXPECT_EQ(t.LiveEdges(), (std::vector<Edge>{{0, 1}}));
  EXPECT_EQ(t.LiveNeighbours(1), std::vector<NodeId>{0});
  EXPECT_EQ(t.LiveDegree(3), 0u);
  EXPECT_EQ(t.Degree(3), 2u);  // the full edge set keeps them
  EXPECT_EQ(t.EdgeCount(), 5u);
  const auto components = t.LiveComponents();
  ASSERT_EQ(components.size(), 2u);
  EXPECT_EQ(components[0], (std::vector<NodeId>{0, 1}));
  EXPECT_EQ(components[1], std::vector<NodeId>{3});
  EXPECT_EQ(t.MaxId(), 4u);
}

}  // namespace
}  // namespace grapevine::agent::core
