// tools/cluster_addrs.h: which node a launcher rank runs, and the addresses of addr-less
// nodes from an allocation.
#include "tools/cluster_addrs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace grapevine::tools {
namespace {

using ::testing::HasSubstr;

topology::Topology Ring(const std::vector<std::string>& names,
                        const std::vector<std::string>& addrs) {
  topology::Topology t;
  for (size_t i = 0; i < names.size(); ++i) {
    t.mutable_node(t.FindOrAddNode(names[i])).addr = addrs[i];
  }
  for (int i = 0; i < t.num_nodes(); ++i) t.AddEdge(i, (i + 1) % t.num_nodes());
  return t;
}

Allocation TwoHosts() {  // gpu1: tasks 0, 1; gpu2: tasks 2, 3
  return {"test", {{"gpu1", 0}, {"gpu1", 1}, {"gpu2", 0}, {"gpu2", 1}}};
}

TEST(NodeForRankTest, ByNameElseByPosition) {
  auto t = Ring({"2", "0", "alice", "1"}, {"", "", "", ""});
  EXPECT_EQ(*NodeForRank(t, "0"), 1);  // the node named "0"
  EXPECT_EQ(*NodeForRank(t, "2"), 0);
  EXPECT_EQ(*NodeForRank(t, "alice"), 2);
  auto far = NodeForRank(t, "4");
  ASSERT_FALSE(far.ok());
  EXPECT_THAT(far.status().message(), HasSubstr("rank 4 is not a node of the topology (4 nodes)"));
  EXPECT_THAT(NodeForRank(t, "x").status().message(), HasSubstr("'x' is not a number"));
}

TEST(AssignAddrsTest, EachNodeOnItsTasksHostAtBasePortPlusLocalIndex) {
  auto t = Ring({"0", "1", "2", "3"}, {"", "auto", "", "me:9"});
  ASSERT_TRUE(HasAutoAddrs(t));
  ASSERT_TRUE(AssignAddrs(TwoHosts(), 47000, &t).ok());
  EXPECT_EQ(t.addr(0), "gpu1:47000");
  EXPECT_EQ(t.addr(1), "gpu1:47001");
  EXPECT_EQ(t.addr(2), "gpu2:47000");
  EXPECT_EQ(t.addr(3), "me:9");  // given: kept
  EXPECT_FALSE(HasAutoAddrs(t));
}

TEST(AssignAddrsTest, FollowsTheRankToNodeRule) {
  // Rank r runs the node named r wherever the file declares it.
  auto t = Ring({"3", "2", "1", "0"}, {"", "", "", ""});
  ASSERT_TRUE(AssignAddrs(TwoHosts(), 100, &t).ok());
  EXPECT_EQ(t.addr(*t.FindNode("0")), "gpu1:100");
  EXPECT_EQ(t.addr(*t.FindNode("3")), "gpu2:101");
}

TEST(AssignAddrsTest, MismatchedCountsAreErrors) {
  auto five = Ring({"0", "1", "2", "3", "4"}, {"", "", "", "", ""});
  Status st = AssignAddrs(TwoHosts(), 100, &five);
  EXPECT_THAT(st.message(), HasSubstr("node 4 has no addr and no task runs it (the topology has 5 "
                                          "nodes, test has 4 tasks)"));
  auto three = Ring({"0", "1", "2"}, {"", "", ""});
  st = AssignAddrs(TwoHosts(), 100, &three);
  EXPECT_THAT(st.message(), HasSubstr("task 3 runs no node"));
  // Rank 0 runs the first node (no node is named "0"), which rank 1 runs by its name.
  auto clash = Ring({"1", "x", "y", "z"}, {"", "", "", ""});
  st = AssignAddrs(TwoHosts(), 100, &clash);
  EXPECT_THAT(st.message(), HasSubstr("tasks 0 and 1 would both run node 1"));
}

TEST(AssignAddrsTest, PortsStopAt65535) {
  auto t = Ring({"0", "1", "2", "3"}, {"", "", "", ""});
  Status st = AssignAddrs(TwoHosts(), 65535, &t);
  EXPECT_THAT(st.message(), HasSubstr("passes port 65535"));
}

}  // namespace
}  // namespace grapevine::tools
