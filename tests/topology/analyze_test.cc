#include <gtest/gtest.h>

#include "topology/analyze.h"
#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/load.h"
#include "topology/report.h"

namespace grapevine::topology {
namespace {

Topology AnalyzedDot(const std::string& text) {
  std::vector<Issue> issues;
  return ReadDot(text, "t.dot", &issues).value();
}

TEST(AnalyzeTest, RingReportAndJsonKeys) {
  Topology ring = LoadTopology(std::string(GRAPEVINE_SOURCE_DIR) + "/examples/ring8.dot").value();
  Report report = Analyze(ring, WeightsKind::kMetropolis).value();
  EXPECT_EQ(report.nodes, 8);
  EXPECT_EQ(report.edges, 8);
  EXPECT_TRUE(report.connected);
  EXPECT_EQ(report.diameter, 4);
  nlohmann::json j = ReportToJson(report);
  for (const char* key : {"nodes", "edges", "directed", "connected", "components", "degree",
                          "diameter", "weights", "doubly_stochastic", "rho", "spectral_gap",
                          "consensus_rounds", "node_list"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["degree"]["min"], 2);
  EXPECT_EQ(j["degree"]["max"], 2);
  EXPECT_DOUBLE_EQ(j["degree"]["mean"].get<double>(), 2.0);
  EXPECT_EQ(j["weights"], "metropolis");
  EXPECT_EQ(j["doubly_stochastic"], true);
  EXPECT_NEAR(j["rho"].get<double>(), 1.0 / 3 + 2.0 / 3 * std::cos(3.14159265358979 / 4), 1e-9);
  EXPECT_EQ(j["consensus_rounds"], 32);
  ASSERT_EQ(j["node_list"].size(), 8u);
  EXPECT_EQ(j["node_list"][3]["id"], "3");
  EXPECT_EQ(j["node_list"][3]["addr"], "127.0.0.1:30003");
  EXPECT_EQ(j["node_list"][3]["degree"], 2);
  EXPECT_FALSE(j["node_list"][3].contains("state"));
  std::string text = ReportToText(report);
  EXPECT_NE(text.find("127.0.0.1:30007"), std::string::npos);
  EXPECT_NE(text.find("doubly stochastic yes"), std::string::npos);
}

TEST(AnalyzeTest, DisconnectedGraphHasNullDiameterAndRounds) {
  Report report = Analyze(AnalyzedDot("graph { a -- b; c -- d }"), WeightsKind::kMetropolis).value();
  nlohmann::json j = ReportToJson(report);
  EXPECT_EQ(j["connected"], false);
  EXPECT_EQ(j["components"], 2);
  EXPECT_TRUE(j["diameter"].is_null());
  EXPECT_TRUE(j["consensus_rounds"].is_null());
  EXPECT_EQ(j["rho"], 1.0);
  ASSERT_FALSE(report.issues.empty());
  EXPECT_EQ(j["issues"][1]["severity"], "warning");  // [0]: no addr, [1]: disconnected
}

TEST(AnalyzeTest, LiveStateAndDigraphDegreesAppearInJson) {
  Report report =
      Analyze(AnalyzedDot("digraph { a -> b; b -> c; c -> a; a -> c }"), WeightsKind::kUniform).value();
  report.node_list[0].state = "alive";
  nlohmann::json j = ReportToJson(report);
  EXPECT_EQ(j["node_list"][0]["state"], "alive");
  EXPECT_EQ(j["node_list"][0]["out_degree"], 2);
  EXPECT_EQ(j["node_list"][0]["in_degree"], 1);
  EXPECT_EQ(j["doubly_stochastic"], false);
  EXPECT_NE(ReportToText(report).find("alive"), std::string::npos);
}

TEST(AnalyzeTest, RefusesEmptyGraphAndDirectedMetropolis) {
  EXPECT_FALSE(Analyze(Topology(), WeightsKind::kMetropolis).ok());
  Result<Report> r = Analyze(AnalyzedDot("digraph { a -> b -> a }"), WeightsKind::kMetropolis);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(ExitCodeFor(r.status()), 2);
}

TEST(AnalyzeTest, DigraphReportsWhatSgpNeeds) {
  GeneratorOptions options;
  options.directed = true;
  Topology ring = Generate(GraphKind::kRing, 8, options).value();
  Report report = Analyze(ring, DefaultWeightsKind(ring)).value();
  EXPECT_EQ(report.weights, WeightsKind::kPushSum);
  nlohmann::json j = ReportToJson(report);
  EXPECT_EQ(j["directed"], true);
  EXPECT_EQ(j["connected"], true);
  EXPECT_TRUE(j["unreachable"].is_null());
  EXPECT_EQ(j["metropolis_exists"], false);
  EXPECT_EQ(j["in_degree"]["max"], 1);
  EXPECT_EQ(j["out_degree"]["min"], 1);
  EXPECT_EQ(j["weight_properties"]["column_stochastic"], true);
  EXPECT_NEAR(j["rho"].get<double>(), std::cos(3.14159265358979 / 8), 1e-9);
  EXPECT_EQ(j["consensus_rounds"], 88);
  const std::string text = ReportToText(report);
  for (const char* expected :
       {"connected   yes (strongly connected)", "in-degree   min 1   mean 1.00   max 1",
        "out-degree  min 1", "metropolis  does not exist for a digraph",
        "second largest |λ| of W"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

TEST(AnalyzeTest, DigraphNotStronglyConnectedNamesAStuckNode) {
  // c only receives: its model never reaches a or b.
  Report report =
      Analyze(AnalyzedDot("digraph { a -> b -> a; b -> c; a -> c }"), WeightsKind::kPushSum).value();
  nlohmann::json j = ReportToJson(report);
  EXPECT_EQ(j["connected"], false);
  EXPECT_EQ(j["unreachable"]["from"], "c");
  EXPECT_EQ(j["unreachable"]["to"], "a");
  EXPECT_EQ(j["out_degree"]["min"], 0);
  EXPECT_EQ(j["in_degree"]["max"], 2);
  EXPECT_TRUE(j["consensus_rounds"].is_null());
  const std::string text = ReportToText(report);
  EXPECT_NE(text.find("no (2 strong components; node c cannot reach node a)"), std::string::npos)
      << text;
  EXPECT_NE(text.find("rounds      none (not strongly connected)"), std::string::npos) << text;
}

TEST(AnalyzeTest, UndirectedJsonHasNoDigraphKeys) {
  Report report = Analyze(Generate(GraphKind::kRing, 5).value(), WeightsKind::kMetropolis).value();
  nlohmann::json j = ReportToJson(report);
  for (const char* key : {"in_degree", "out_degree", "unreachable", "metropolis_exists"}) {
    EXPECT_FALSE(j.contains(key)) << key;
  }
  EXPECT_EQ(ReportToText(report).find("metropolis  "), std::string::npos);
}

}  // namespace
}  // namespace grapevine::topology
