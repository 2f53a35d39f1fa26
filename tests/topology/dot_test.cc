#include <gtest/gtest.h>

#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/load.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

Result<Topology> Parse(const std::string& text, std::vector<Issue>* issues) {
  return ReadDot(text, "t.dot", issues);
}

TEST(DotReaderTest, ReadsEveryConstructOfTheFixture) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadTopologyFile(DataPath("full.dot"), &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_FALSE(t->directed());
  ASSERT_EQ(t->num_nodes(), 5);
  EXPECT_EQ(t->num_edges(), 6);
  int bc = t->FindNode("b c").value();
  EXPECT_EQ(t->node(bc).addr, "127.0.0.1:47001");
  EXPECT_EQ(t->node(bc).group, "right");
  EXPECT_EQ(t->node(bc).line, 9);
  EXPECT_EQ(t->node(t->FindNode("3").value()).addr, "[::1]:47002");
  EXPECT_EQ(t->node(t->FindNode("a").value()).group, "left");
  int a = t->FindNode("a").value();
  int d = t->FindNode("d").value();
  int e = t->FindNode("e").value();
  EXPECT_TRUE(t->HasEdge(d, a));
  EXPECT_TRUE(t->HasEdge(d, bc));
  EXPECT_TRUE(t->HasEdge(e, a));
  EXPECT_EQ(t->Neighbors(a), (std::vector<int>{bc, d, e}));
  // The chain's attribute list applies to both of its edges.
  for (const Edge& edge : t->edges()) {
    if (edge.line == 12) {
      EXPECT_EQ(edge.weight, 0.25);
    } else if (edge.line == 13) {
      EXPECT_EQ(edge.weight, 0.5);
    } else {
      EXPECT_FALSE(edge.weight.has_value()) << edge.line;
    }
  }
}

TEST(DotReaderTest, DigraphKeepsDirection) {
  std::vector<Issue> issues;
  Result<Topology> t = Parse("digraph { 0 -> 1 -> 2; 2 -> 0 }", &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(t->directed());
  EXPECT_EQ(t->num_edges(), 3);
  EXPECT_TRUE(t->HasEdge(0, 1));
  EXPECT_FALSE(t->HasEdge(1, 0));
  EXPECT_EQ(t->InNeighbors(0), std::vector<int>{2});
  EXPECT_EQ(t->OutNeighbors(0), std::vector<int>{1});
}

TEST(DotReaderTest, EdgeOperatorMustMatchGraphKind) {
  std::vector<Issue> issues;
  Result<Topology> t = Parse("digraph {\n a -> b\n b -- c\n}", &issues);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("t.dot:3:"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("'--' in a digraph"), std::string::npos);
  t = Parse("graph {\n\n a -> b }", &issues);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("t.dot:3: '->' in an undirected graph"), std::string::npos)
      << t.status().message();
}

TEST(DotReaderTest, SyntaxErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"graph {\n a -- \"b\n}", "t.dot:2: unterminated quoted string"},
      {"graph {\n a -- b\n", "missing '}'"},
      {"graph {\n a -- b;\n c $ d }", "t.dot:3: unexpected character '$'"},
      {"graph {\n /* open\n a }", "t.dot:2: unterminated /* comment"},
      {"network { a }", "t.dot:1: expected 'graph' or 'digraph'"},
      {"graph {\n a [addr] }", "t.dot:2: expected '=' after attribute name"},
      {"graph { a -- b } extra", "after the closing '}'"},
      {"graph {\n a --\n }", "t.dot:3: expected a node id"},
  };
  for (const Case& c : cases) {
    std::vector<Issue> issues;
    Result<Topology> t = Parse(c.text, &issues);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.status().message().find(c.expected), std::string::npos)
        << c.text << " -> " << t.status().message();
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidInput);
  }
}

TEST(DotReaderTest, NonNumericWeightIsAnIssueWithLine) {
  std::vector<Issue> issues;
  Result<Topology> t = Parse("graph {\n a -- b [weight=0.5]\n b -- c [weight=heavy]\n}", &issues);
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].line, 3);
  EXPECT_NE(issues[0].message.find("'heavy' is not a number"), std::string::npos);
}

TEST(DotReaderTest, UnknownNodeInEdgeWhenNodesAreDeclared) {
  std::vector<Issue> issues;
  Result<Topology> t = Parse("graph {\n a [addr=\"h:1\"]\n b [addr=\"h:2\"]\n a -- b\n b -- cc\n}", &issues);
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(HasIssue(issues, "unknown node 'cc'", 5)) << FormatIssues("t.dot", issues);
  // Without node statements, DOT's implicit declaration applies.
  issues.clear();
  ASSERT_TRUE(Parse("graph { a -- b -- cc }", &issues).ok());
  EXPECT_TRUE(issues.empty());
}

TEST(DotWriterTest, RoundTripsGeneratedGraph) {
  GeneratorOptions options;
  options.seed = 7;
  Topology original = Generate(GraphKind::kSmallWorld, 12, options).value();
  std::vector<Issue> issues;
  Result<Topology> back = ReadDot(WriteDot(original), "rt.dot", &issues);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_TRUE(issues.empty());
  ASSERT_EQ(back->num_nodes(), original.num_nodes());
  ASSERT_EQ(back->edges().size(), original.edges().size());
  for (int i = 0; i < original.num_nodes(); ++i) {
    EXPECT_EQ(back->node(i).name, original.node(i).name);
    EXPECT_EQ(back->node(i).addr, original.node(i).addr);
    EXPECT_EQ(back->Neighbors(i), original.Neighbors(i));
  }
}

TEST(DotWriterTest, RoundTripsAwkwardIdsAttributesAndWeights) {
  Topology t(/*directed=*/true);
  int a = t.FindOrAddNode("node with \"quotes\"");
  int b = t.FindOrAddNode("graph");  // a keyword must be quoted
  int c = t.FindOrAddNode("-2.5");
  int d = t.FindOrAddNode("ünïcode");
  t.mutable_node(a).addr = "10.0.0.1:9000";
  t.mutable_node(b).group = "g 1";
  t.AddEdge(a, b, 0.1);
  t.AddEdge(b, c, 1.0 / 3.0);
  t.AddEdge(c, d);
  t.AddEdge(d, a, 1e-7);
  std::vector<Issue> issues;
  Result<Topology> back = ReadDot(WriteDot(t), "rt.dot", &issues);
  ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << WriteDot(t);
  EXPECT_TRUE(back->directed());
  ASSERT_EQ(back->num_nodes(), 4);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(back->node(i).name, t.node(i).name);
    EXPECT_EQ(back->node(i).addr, t.node(i).addr);
    EXPECT_EQ(back->node(i).group, t.node(i).group);
  }
  ASSERT_EQ(back->edges().size(), 4u);
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(back->edges()[k].u, t.edges()[k].u);
    EXPECT_EQ(back->edges()[k].v, t.edges()[k].v);
    EXPECT_EQ(back->edges()[k].weight, t.edges()[k].weight);  // exact: shortest round-trip text
  }
}

}  // namespace
}  // namespace grapevine::topology
