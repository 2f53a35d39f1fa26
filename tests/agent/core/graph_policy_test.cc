#include "agent/core/graph_policy.h"

#include <gtest/gtest.h>

namespace grapevine::agent::core {
namespace {

MemberTable Table(int n, const std::vector<std::pair<NodeId, NodeId>>& edges) {
  MemberTable t;
  for (int i = 0; i < n; ++i) {
    t.Apply({static_cast<NodeId>(i), "h:" + std::to_string(i), MemberState::kAlive, 0},
            TimePoint{});
  }
  for (auto [a, b] : edges) t.AddEdge(MakeEdge(a, b));
  return t;
}

void Kill(MemberTable& t, NodeId id) {
  t.Apply({id, "h:" + std::to_string(id), MemberState::kDead, 0}, TimePoint{});
}

TEST(GraphPolicy, NextJoinIdNeverReusesDeadOrLeftIds) {
  MemberTable t = Table(3, {});
  EXPECT_EQ(NextJoinId(t, 0), 3u);
  t.Apply({9, "h:9", MemberState::kLeft, 0}, TimePoint{});
  EXPECT_EQ(NextJoinId(t, 0), 10u);
  EXPECT_EQ(NextJoinId(MemberTable{}, 0), 0u);
}

TEST(GraphPolicy, NextJoinIdDiffersBetweenAdmittersWithTheSameView) {
  MemberTable t = Table(4, {});
  Kill(t, 1);
  // Live ranks: 0 -> 0, 2 -> 1, 3 -> 2.
  EXPECT_EQ(NextJoinId(t, 0), 4u);
  EXPECT_EQ(NextJoinId(t, 2), 5u);
  EXPECT_EQ(NextJoinId(t, 3), 6u);
}

TEST(GraphPolicy, AttachToLeastLoadedAliveTiesById) {
  // degrees: 0:3 1:2 2:2 3:2 4:1
  MemberTable t = Table(5, {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {3, 4}});
  EXPECT_EQ(PickAttachPoints(t, 2, 8), (std::vector<NodeId>{4, 1}));
  EXPECT_EQ(PickAttachPoints(t, 1, 8), std::vector<NodeId>{4});
  // Suspects are not attach points.
  t.Apply({4, "h:4", MemberState::kSuspect, 0}, TimePoint{});
  EXPECT_EQ(PickAttachPoints(t, 2, 8), (std::vector<NodeId>{1, 2}));
}

TEST(GraphPolicy, RepairReplacesLostNeighbourPreferringOtherComponents) {
  // Ring 0..7; 2 and 6 die -> arcs {0,1,7} and {3,4,5}.
  MemberTable t = Table(8, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 6}, {6, 7}, {7, 0}});
  Kill(t, 2);
  Kill(t, 6);
  // 1 lost neighbour 2; 7 (own arc, degree 1) ties with 3 and 5 on degree, but
  // the other arc comes first: 3 (lowest id).
  EXPECT_EQ(PickRepairTargets(t, 1, 2, 8), std::vector<NodeId>{3});
  EXPECT_TRUE(PickRepairTargets(t, 0, 2, 8).empty());  // still degree 2
  EXPECT_TRUE(PickRepairTargets(t, 2, 2, 8).empty());  // dead nodes do not repair
}

TEST(GraphPolicy, SoftMaxDegreeBeatsComponentPreference) {
  // Own component {0,1,2}, other component the triangle {3,4,5}; 1 lost neighbour 6.
  MemberTable t = Table(7, {{0, 1}, {0, 2}, {1, 6}, {3, 4}, {4, 5}, {5, 3}});
  Kill(t, 6);
  EXPECT_EQ(PickRepairTargets(t, 1, 2, 8), std::vector<NodeId>{3});  // stitch components
  EXPECT_EQ(PickRepairTargets(t, 1, 2, 2), std::vector<NodeId>{2});  // 3,4,5 are full
}

TEST(GraphPolicy, RepairDoesNotDensifyASparseTopology) {
  MemberTable t = Table(4, {{0, 1}, {0, 2}, {0, 3}});  // star: leaves have degree 1
  EXPECT_TRUE(PickRepairTargets(t, 1, 2, 8).empty());
  Kill(t, 0);  // hub dies: every leaf gets one neighbour back
  EXPECT_EQ(PickRepairTargets(t, 1, 2, 8), std::vector<NodeId>{2});
}

TEST(GraphPolicy, BridgesOnlyFromSmallestLiveId) {
  MemberTable t = Table(6, {{0, 1}, {2, 3}, {3, 4}, {4, 2}});  // {0,1} {2,3,4} {5}
  EXPECT_TRUE(PickBridges(t, 1).empty());
  EXPECT_EQ(PickBridges(t, 0), (std::vector<Edge>{{0, 2}, {0, 5}}));
  MemberTable connected = Table(3, {{0, 1}, {1, 2}});
  EXPECT_TRUE(PickBridges(connected, 0).empty());
}

}  // namespace
}  // namespace grapevine::agent::core
