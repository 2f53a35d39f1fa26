#include <gtest/gtest.h>

#include "topology/graphml.h"
#include "topology/load.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

Result<Topology> ParseGraphml(const std::string& text, std::vector<Issue>* issues) {
  return ReadGraphml(text, "t.graphml", issues);
}

TEST(GraphmlReaderTest, ReadsNetworkxOutput) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadTopologyFile(DataPath("networkx.graphml"), &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_FALSE(t->directed());
  ASSERT_EQ(t->num_nodes(), 3);
  EXPECT_EQ(t->num_edges(), 3);
  EXPECT_EQ(t->node(0).name, "a");
  EXPECT_EQ(t->node(0).addr, "127.0.0.1:47000");
  EXPECT_EQ(t->node(2).group, "rack2");
  EXPECT_EQ(t->edges()[1].weight, 0.5);
  EXPECT_EQ(t->edges()[1].line, 22);
}

TEST(GraphmlReaderTest, ReadsGephiOutputWithEdgesBeforeNodes) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadTopologyFile(DataPath("gephi.graphml"), &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(issues.empty()) << FormatIssues("", issues);
  EXPECT_TRUE(t->directed());
  ASSERT_EQ(t->num_nodes(), 3);
  EXPECT_EQ(t->num_edges(), 3);
  int n0 = t->FindNode("n0").value();
  int n2 = t->FindNode("n2").value();
  EXPECT_TRUE(t->HasEdge(n2, n0));
  EXPECT_FALSE(t->HasEdge(n0, n2));
  EXPECT_EQ(t->node(n0).addr, "");
}

TEST(GraphmlReaderTest, ReadsFileWithoutDataKeys) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadTopologyFile(DataPath("plain.graphml"), &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->num_nodes(), 4);
  EXPECT_EQ(t->num_edges(), 3);
  for (const Edge& e : t->edges()) EXPECT_FALSE(e.weight.has_value());
}

TEST(GraphmlReaderTest, KeyDefaultsApply) {
  std::vector<Issue> issues;
  Result<Topology> t = ParseGraphml(R"(<graphml>
<key id="w" for="edge" attr.name="weight"><default>0.2</default></key>
<graph edgedefault="undirected"><node id="1"/><node id="2"/><node id="3"/>
<edge source="1" target="2"/><edge source="2" target="3"><data key="w">0.4</data></edge>
</graph></graphml>)", &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->edges()[0].weight, 0.2);
  EXPECT_EQ(t->edges()[1].weight, 0.4);
}

TEST(GraphmlReaderTest, EntitiesAreDecoded) {
  std::vector<Issue> issues;
  Result<Topology> t = ParseGraphml(R"(<graphml><key id="a" for="node" attr.name="addr"/>
<graph edgedefault="undirected"><node id="x&amp;y"><data key="a">h&#46;example:&#x31;2</data></node></graph></graphml>)",
                             &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->node(0).name, "x&y");
  EXPECT_EQ(t->node(0).addr, "h.example:12");
}

TEST(GraphmlReaderTest, UnknownNodeAndBadWeightAreIssuesWithLines) {
  std::vector<Issue> issues;
  Result<Topology> t = ParseGraphml(R"(<graphml>
<key id="d0" for="edge" attr.name="weight"/>
<graph edgedefault="undirected">
<node id="a"/><node id="b"/>
<edge source="a" target="ghost"/>
<edge source="a" target="b">
  <data key="d0">lots</data>
</edge>
</graph></graphml>)", &issues);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_TRUE(HasIssue(issues, "unknown node 'ghost'", 5)) << FormatIssues("", issues);
  EXPECT_TRUE(HasIssue(issues, "'lots' is not a number", 7)) << FormatIssues("", issues);
  EXPECT_EQ(t->num_edges(), 1);
}

TEST(GraphmlReaderTest, SyntaxErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"<graphml>\n<graph>\n<node id=\"a\">\n</graph></graphml>", "t.graphml:4: </graph> does not close <node>"},
      {"<graphml>\n<!-- never closed", "t.graphml:2: unterminated <!-- comment"},
      {"<html><body/></html>", "not a GraphML file"},
      {"<graphml>\n<graph>\n<node/>\n</graph></graphml>", "t.graphml:3: <node> without id"},
      {"<graphml>\n<graph><node id=a/></graph></graphml>", "t.graphml:2: value of attribute 'id' must be quoted"},
      {"<graphml><graph>\n<edge source=\"a\"/></graph></graphml>", "t.graphml:2: <edge> needs source and target"},
      {"<graphml><graph><node id=\"&bogus;\"/></graph></graphml>", "unknown entity '&bogus;'"},
      {"<graphml>\n<graph>", "unexpected end of file inside <graph>"},
      {"<graphml></graphml>", "no <graph> element"},
  };
  for (const Case& c : cases) {
    std::vector<Issue> issues;
    Result<Topology> t = ParseGraphml(c.text, &issues);
    ASSERT_FALSE(t.ok()) << c.text;
    EXPECT_NE(t.status().message().find(c.expected), std::string::npos)
        << c.text << " -> " << t.status().message();
  }
}

}  // namespace
}  // namespace grapevine::topology
