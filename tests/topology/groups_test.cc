// Groups (topology/groups.h): the rules on the `group` attribute, the per-group and
// inter-group spectral figures, and `topo gen groups`.
#include <gtest/gtest.h>

#include "test_util.h"
#include "topology/analyze.h"
#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/groups.h"
#include "topology/load.h"

namespace grapevine::topology {
namespace {

Topology GroupsDot(const std::string& text) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadDot(text, "t.dot", &issues);
  EXPECT_TRUE(t.ok()) << t.status().message();
  EXPECT_FALSE(HasErrors(issues)) << FormatIssues("t.dot", issues);
  return *t;
}

Topology GenGroups(int g, int k, InterGroup inter = InterGroup::kRing, int bridges = 1) {
  GeneratorOptions o;
  o.group_size = k;
  o.inter = inter;
  o.bridges = bridges;
  Result<Topology> t = Generate(GraphKind::kGroups, g, o);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return *t;
}

TEST(GroupsTest, NoGroupsIsFine) {
  Topology t = GroupsDot("graph {\n a -- b -- c -- a\n}");
  EXPECT_FALSE(HasGroups(t));
  EXPECT_TRUE(ValidateGroups(t).empty());
  EXPECT_FALSE(AnalyzeGroups(t, WeightsKind::kMetropolis).has_value());
}

TEST(GroupsTest, SomeNodesWithoutAGroupAreNamedWithTheirLines) {
  Topology t = GroupsDot("graph {\n a [group=x]\n b\n c [group=x]\n a -- b -- c -- a\n}");
  std::vector<Issue> issues = ValidateGroups(t);
  EXPECT_TRUE(HasIssue(issues, "node b has no group, but 2 nodes have one", 3))
      << FormatIssues("t.dot", issues);
  EXPECT_TRUE(HasErrors(issues));
}

TEST(GroupsTest, AGroupSplitInsideIsAnError) {
  // a and c are both in x but only joined through b of group y.
  Topology t = GroupsDot("graph {\n a [group=x]\n b [group=y]\n c [group=x]\n a -- b -- c\n}");
  std::vector<Issue> issues = ValidateGroups(t);
  EXPECT_TRUE(HasIssue(issues, "group x is not connected inside: its 2 nodes form 2 components", 4))
      << FormatIssues("t.dot", issues);
}

TEST(GroupsTest, GroupsWithoutABridgeAreAnError) {
  Topology t = GroupsDot("graph {\n a [group=x]\n b [group=x]\n c [group=y]\n d [group=y]\n"
                   " a -- b\n c -- d\n}");
  std::vector<Issue> issues = ValidateGroups(t);
  EXPECT_TRUE(HasIssue(issues, "2 groups but no edge between two groups")) << FormatIssues("t.dot", issues);
}

TEST(GroupsTest, ValidateReportsGroupProblemsToo) {
  Topology t = GroupsDot("graph {\n a [group=x]\n b\n a -- b\n}");
  EXPECT_TRUE(HasIssue(Validate(t, ValidateOptions{}), "node b has no group"));
}

TEST(GroupsTest, ExampleGroups8IsValid) {
  Result<Topology> t = LoadTopology(std::string(GRAPEVINE_SOURCE_DIR) + "/examples/groups8.dot");
  ASSERT_TRUE(t.ok()) << t.status().message();
  std::vector<Issue> issues = ValidateGroups(*t);
  EXPECT_TRUE(issues.empty()) << FormatIssues("groups8.dot", issues);
  auto report = AnalyzeGroups(*t, WeightsKind::kMetropolis);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->groups.size(), 2u);
  EXPECT_EQ(report->groups[0].name, "a");
  EXPECT_EQ(report->groups[0].members.size(), 4u);
  EXPECT_EQ(report->groups[0].internal_edges, 3);  // the path 0-1-2-3
  EXPECT_EQ(report->bridge_edges, 2);              // 3-4 and 7-0
  EXPECT_EQ(report->inter_links, 1);
  ASSERT_TRUE(report->inter.has_value());
  // Two groups joined by one link: W = [[1/2, 1/2], [1/2, 1/2]], ρ = 0.
  ASSERT_TRUE(report->inter->rho.has_value());
  EXPECT_NEAR(*report->inter->rho, 0.0, 1e-9);
}

TEST(GroupsTest, GenGroupsRingOfFourPairs) {
  Topology t = GenGroups(4, 2);
  EXPECT_EQ(t.num_nodes(), 8);
  EXPECT_EQ(t.num_edges(), 8);  // 4 inside + 4 bridges
  for (auto [u, v] : {std::pair{0, 1}, {2, 3}, {4, 5}, {6, 7}, {1, 2}, {3, 4}, {5, 6}, {0, 7}}) {
    EXPECT_TRUE(t.HasEdge(u, v)) << u << " -- " << v;
  }
  EXPECT_EQ(t.node(0).group, "g0");
  EXPECT_EQ(t.node(7).group, "g3");
  EXPECT_EQ(t.addr(7), "127.0.0.1:30007");
  EXPECT_TRUE(ValidateGroups(t).empty());
  auto report = AnalyzeGroups(t, WeightsKind::kMetropolis);
  ASSERT_TRUE(report.has_value());
  ASSERT_EQ(report->groups.size(), 4u);
  // A complete pair averages exactly in one step: ρ = 0.
  for (const GroupStats& g : report->groups) {
    ASSERT_TRUE(g.spectral.rho.has_value()) << g.name;
    EXPECT_NEAR(*g.spectral.rho, 0.0, 1e-9) << g.name;
  }
  // The groups form a ring of 4: Metropolis weights 1/3, eigenvalues 1, 1/3, 1/3, −1/3.
  EXPECT_EQ(report->inter_links, 4);
  ASSERT_TRUE(report->inter && report->inter->rho);
  EXPECT_NEAR(*report->inter->rho, 1.0 / 3.0, 1e-9);
}

TEST(GroupsTest, GenGroupsCompleteWithTwoBridgesPerPair) {
  Topology t = GenGroups(3, 3, InterGroup::kComplete, 2);
  EXPECT_EQ(t.num_nodes(), 9);
  EXPECT_EQ(t.num_edges(), 9 + 3 * 2);
  EXPECT_TRUE(ValidateGroups(t).empty());
  auto report = AnalyzeGroups(t, WeightsKind::kMetropolis);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->bridge_edges, 6);
  EXPECT_EQ(report->inter_links, 3);
  // Complete inside and between: every node has a bridge (the ends go round-robin).
  for (int i = 0; i < t.num_nodes(); ++i) EXPECT_GE(t.Degree(i), 3) << i;
}

TEST(GroupsTest, GenGroupsRejectsBadSizes) {
  GeneratorOptions o;
  EXPECT_FALSE(Generate(GraphKind::kGroups, 4, o).ok());  // no K
  o.group_size = 2;
  o.bridges = 3;
  Result<Topology> t = Generate(GraphKind::kGroups, 4, o);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("--bridges must be in 1..K (2)"), std::string::npos)
      << t.status().message();
  o.bridges = 1;
  o.directed = true;
  EXPECT_FALSE(Generate(GraphKind::kGroups, 4, o).ok());
  EXPECT_FALSE(ParseInterGroup("star").ok());
}

TEST(GroupsTest, OneGroupHasNoInterGraph) {
  Topology t = GenGroups(1, 4);
  auto report = AnalyzeGroups(t, WeightsKind::kMetropolis);
  ASSERT_TRUE(report.has_value());
  EXPECT_FALSE(report->inter.has_value());
  EXPECT_EQ(report->bridge_edges, 0);
}

TEST(GroupsTest, AnalyzeCarriesTheGroups) {
  Result<Report> r = Analyze(GenGroups(2, 3), WeightsKind::kMetropolis);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r->groups.has_value());
  EXPECT_EQ(r->groups->groups.size(), 2u);
}

}  // namespace
}  // namespace grapevine::topology
