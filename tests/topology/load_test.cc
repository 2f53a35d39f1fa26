#include <gtest/gtest.h>

#include "topology/load.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

TEST(LoadTest, FormatByExtensionThenContent) {
  EXPECT_EQ(DetectFormat("a.dot", ""), Format::kDot);
  EXPECT_EQ(DetectFormat("a.GV", ""), Format::kDot);
  EXPECT_EQ(DetectFormat("a.graphml", ""), Format::kGraphml);
  EXPECT_EQ(DetectFormat("a.edges", "graph {}"), Format::kEdgeList);  // extension wins
  EXPECT_EQ(DetectFormat("noext", "  <?xml version='1.0'?><graphml/>"), Format::kGraphml);
  EXPECT_EQ(DetectFormat("noext", "// c\n/* d */ strict digraph { a -> b }"), Format::kDot);
  EXPECT_EQ(DetectFormat("dir.d/noext", "# comment\nGraph { }"), Format::kDot);
  EXPECT_EQ(DetectFormat("noext", "# comment\n0 1\n"), Format::kEdgeList);
  EXPECT_EQ(DetectFormat("noext", "graphite 1\n"), Format::kEdgeList);
}

TEST(LoadTest, MissingFileIsNotFound) {
  Result<Topology> t = LoadTopology(DataPath("does-not-exist.dot"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(ExitCodeFor(t.status()), 2);
}

TEST(LoadTest, ExamplesLoadAndFindNodesByName) {
  for (const char* name : {"ring4.dot", "ring5.dot", "ring8.dot", "complete5.dot", "complete8.dot",
                           "ring8.graphml", "ring8.edges", "groups8.dot",
                           "ring8-stragglers.dot"}) {
    std::string path = std::string(GRAPEVINE_SOURCE_DIR) + "/examples/" + name;
    Result<Topology> t = LoadTopology(path);
    ASSERT_TRUE(t.ok()) << t.status().message();
    std::optional<int> last = t->FindNode(std::to_string(t->num_nodes() - 1));
    ASSERT_TRUE(last.has_value()) << name;
    EXPECT_EQ(t->addr(*last), "127.0.0.1:" + std::to_string(30000 + t->num_nodes() - 1)) << name;
  }
  Result<Topology> groups = LoadTopology(std::string(GRAPEVINE_SOURCE_DIR) + "/examples/groups8.dot");
  ASSERT_TRUE(groups.ok());
  EXPECT_EQ(groups->node(3).group, "a");
  EXPECT_EQ(groups->node(4).group, "b");
  Result<Topology> slow =
      LoadTopology(std::string(GRAPEVINE_SOURCE_DIR) + "/examples/ring8-stragglers.dot");
  ASSERT_TRUE(slow.ok());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(slow->node(i).slowdown, i == 3 || i == 7 ? 4.0 : 1.0);
}

}  // namespace
}  // namespace grapevine::topology
