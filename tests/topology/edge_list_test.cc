#include <gtest/gtest.h>

#include "topology/edge_list.h"
#include "topology/load.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

TEST(EdgeListReaderTest, ReadsFixture) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadTopologyFile(DataPath("mixed.edges"), &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_FALSE(t->directed());
  ASSERT_EQ(t->num_nodes(), 5);
  EXPECT_EQ(t->num_edges(), 3);
  EXPECT_EQ(t->edges()[0].weight, 0.25);
  EXPECT_FALSE(t->edges()[1].weight.has_value());
  EXPECT_EQ(t->edges()[2].line, 4);
  int dave = t->FindNode("dave").value();
  EXPECT_TRUE(t->Neighbors(dave).empty());
  EXPECT_EQ(t->node(dave).line, 5);
  int erin = t->FindNode("erin").value();
  EXPECT_EQ(t->node(erin).addr, "127.0.0.1:47004");
  EXPECT_EQ(t->node(erin).group, "g1");
}

TEST(EdgeListReaderTest, MalformedLinesAreIssuesWithLines) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadEdgeList("0 1\n1 2 3 4\n2 3 x\n4 colour=red\n\n5 6 -0.5\n", "t.edges", &issues);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(HasIssue(issues, "expected 'u v [weight]', found 4 fields", 2));
  EXPECT_TRUE(HasIssue(issues, "'x' is not a number", 3));
  EXPECT_TRUE(HasIssue(issues, "found 'colour=red'", 4));
  EXPECT_EQ(issues.size(), 3u);  // -0.5 parses; Validate() rejects negative weights
  EXPECT_EQ(t->edges().back().weight, -0.5);
}

TEST(EdgeListReaderTest, BinaryInputIsRefused) {
  std::vector<Issue> issues;
  std::string binary("0 1\n\0\x01", 6);
  EXPECT_FALSE(ReadEdgeList(binary, "t.edges", &issues).ok());
}

}  // namespace
}  // namespace grapevine::topology
