// The node attribute slowdown=F (straggler emulation, docs/topology.md): read by every
// reader, refused with file:line outside [1, 100], written back by WriteDot, shown by
// `topo inspect` (text and JSON) only when some node has one.
#include <gtest/gtest.h>

#include "topology/analyze.h"
#include "topology/dot.h"
#include "topology/edge_list.h"
#include "topology/graphml.h"
#include "topology/report.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

TEST(SlowdownTest, EveryReaderTakesIt) {
  std::vector<Issue> issues;
  Result<Topology> dot =
      ReadDot("graph { 0 [addr=\"h:1\", slowdown=4]; 1 [slowdown=1.5]; 2; 0 -- 1 -- 2 -- 0 }",
              "t.dot", &issues);
  ASSERT_TRUE(dot.ok()) << dot.status().message();
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_EQ(dot->node(0).slowdown, 4.0);
  EXPECT_EQ(dot->node(1).slowdown, 1.5);
  EXPECT_EQ(dot->node(2).slowdown, 1.0);

  Result<Topology> edges = ReadEdgeList("a slowdown=2 addr=h:1\na b\n", "t.edges", &issues);
  ASSERT_TRUE(edges.ok());
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_EQ(edges->node(edges->FindNode("a").value()).slowdown, 2.0);
  EXPECT_EQ(edges->node(edges->FindNode("b").value()).slowdown, 1.0);

  const std::string graphml = R"(<?xml version="1.0"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
  <key id="d0" for="node" attr.name="slowdown" attr.type="double"><default>3</default></key>
  <graph edgedefault="undirected">
    <node id="a"><data key="d0">1</data></node>
    <node id="b"/>
    <node id="c"><data key="d0">8</data></node>
    <edge source="a" target="b"/><edge source="b" target="c"/>
  </graph>
</graphml>)";
  Result<Topology> g = ReadGraphml(graphml, "t.graphml", &issues);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_EQ(g->node(0).slowdown, 1.0);  // given, not the default
  EXPECT_EQ(g->node(1).slowdown, 3.0);  // the key's default
  EXPECT_EQ(g->node(2).slowdown, 8.0);
}

TEST(SlowdownTest, OutOfRangeOrNotANumberIsAnIssueWithItsLine) {
  std::vector<Issue> issues;
  ASSERT_TRUE(ReadDot("graph {\n 0 [slowdown=0.5];\n 1 [slowdown=fast];\n 2 [slowdown=101];\n"
                      " 0 -- 1 -- 2\n}",
                      "t.dot", &issues)
                  .ok());
  EXPECT_TRUE(HasIssue(issues, "slowdown '0.5' of node '0' is not a number in [1, 100]", 2))
      << FormatIssues("", issues);
  EXPECT_TRUE(HasIssue(issues, "slowdown 'fast' of node '1'", 3)) << FormatIssues("", issues);
  EXPECT_TRUE(HasIssue(issues, "slowdown '101' of node '2'", 4)) << FormatIssues("", issues);

  issues.clear();
  ASSERT_TRUE(ReadEdgeList("a b\nb slowdown=nan\n", "t.edges", &issues).ok());
  EXPECT_TRUE(HasIssue(issues, "slowdown 'nan' of node 'b'", 2)) << FormatIssues("", issues);

  issues.clear();
  ASSERT_TRUE(ReadGraphml(R"(<graphml><key id="s" for="node" attr.name="slowdown"/>
<graph edgedefault="undirected"><node id="a">
<data key="s">-2</data></node><node id="b"/><edge source="a" target="b"/></graph></graphml>)",
                          "t.graphml", &issues)
                  .ok());
  EXPECT_TRUE(HasIssue(issues, "slowdown '-2' of node 'a'", 3)) << FormatIssues("", issues);
}

TEST(SlowdownTest, WrittenBackAndShownByInspectOnlyWhenUsed) {
  std::vector<Issue> issues;
  Result<Topology> t =
      ReadDot("graph { 0 [slowdown=4]; 1; 2; 0 -- 1 -- 2 -- 0 }", "t.dot", &issues);
  ASSERT_TRUE(t.ok());
  const std::string dot = WriteDot(*t);
  EXPECT_NE(dot.find("slowdown=4"), std::string::npos) << dot;
  Result<Topology> back = ReadDot(dot, "back.dot", &issues);
  ASSERT_TRUE(back.ok());
  for (int i = 0; i < 3; ++i) EXPECT_EQ(back->node(i).slowdown, t->node(i).slowdown);

  Result<Report> report = Analyze(*t, WeightsKind::kMetropolis);
  ASSERT_TRUE(report.ok()) << report.status().message();
  const std::string text = ReportToText(*report);
  EXPECT_NE(text.find("slowdown"), std::string::npos) << text;
  const nlohmann::json j = ReportToJson(*report);
  EXPECT_EQ(j["node_list"][0]["slowdown"].get<double>(), 4.0);
  EXPECT_FALSE(j["node_list"][1].contains("slowdown"));

  Result<Topology> plain = ReadDot("graph { 0 -- 1 -- 2 -- 0 }", "p.dot", &issues);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(WriteDot(*plain).find("slowdown"), std::string::npos);
  Result<Report> plain_report = Analyze(*plain, WeightsKind::kMetropolis);
  ASSERT_TRUE(plain_report.ok());
  EXPECT_EQ(ReportToText(*plain_report).find("slowdown"), std::string::npos);
}

}  // namespace
}  // namespace grapevine::topology
