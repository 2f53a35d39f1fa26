#include "tools/report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/tools/report_fixture.h"
#include "tests/tools/xml_check.h"
#include "tools/topo_render.h"

namespace grapevine::tools {
namespace {

namespace fs = std::filesystem;
using fixture::Agent;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = (fs::temp_directory_path() /
            ("grapevine-report-test-" + std::to_string(::getpid()) + "-" + info->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    topology_ = dir_ + "/topology.dot";
    std::ofstream(topology_) << "graph g {\n  n0 [addr=\"127.0.0.1:47000\"];\n"
                                "  n1 [addr=\"127.0.0.1:47001\"];\n  n2 [addr=\"127.0.0.1:47002\"];\n"
                                "  n0 -- n1; n1 -- n2; n2 -- n0;\n}\n";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static RunData FakeRun(const std::string& label, double base) {
    RunData run;
    run.label = label;
    run.agents = {Agent("n0", 8, 2, base, 0.05, 1000), Agent("n1", 8, 2, base - 0.1, 0.05, 2000),
                  Agent("n2", 8, 2, base + 0.1, 0.05, 1500)};
    run.summary = {{"algo", label}, {"nodes", 3}, {"rounds", 8}, {"wall_seconds", 12.5},
                   {"model", "mlp"}, {"complete", true}};
    return run;
  }

  std::string dir_;
  std::string topology_;
};

TEST_F(ReportTest, RunReportWritesEveryFileAndReferencesThem) {
  RunData run = FakeRun("dimat", 0.5);
  auto files = WriteRunReport(dir_, run, topology_, "grapevine launch --algo dimat <ring>");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::vector<std::string> expected = {"metrics.csv", "accuracy.svg", "bytes.svg", "report.html"};
  if (FindOnPath("neato")) expected.insert(expected.begin() + 3, "topology.svg");
  EXPECT_EQ(*files, expected);
  for (const auto& f : *files) EXPECT_TRUE(fs::exists(dir_ + "/" + f)) << f;

  std::string html = ReadAll(dir_ + "/report.html");
  EXPECT_TRUE(xmlcheck::BalancedTags(html));
  for (const auto& f : *files) EXPECT_NE(html.find("href=\"" + f + "\""), std::string::npos) << f;
  EXPECT_NE(html.find("grapevine launch --algo dimat &lt;ring&gt;"), std::string::npos);
  EXPECT_NE(html.find("127.0.0.1:47002"), std::string::npos);  // agent table shows addrs
  EXPECT_NE(html.find("0.8500"), std::string::npos);            // n2's final accuracy
  EXPECT_NE(html.find("12.5 s"), std::string::npos);            // wall time

  // 3 faint agent lines + the mean; one band.
  std::string accuracy = ReadAll(dir_ + "/accuracy.svg");
  EXPECT_TRUE(xmlcheck::BalancedTags(accuracy));
  EXPECT_EQ(xmlcheck::CountTag(accuracy, "polyline"), 4);
  EXPECT_EQ(xmlcheck::CountTag(accuracy, "polygon"), 1);
  std::string bytes = ReadAll(dir_ + "/bytes.svg");
  EXPECT_TRUE(xmlcheck::BalancedTags(bytes));
  EXPECT_EQ(xmlcheck::CountTag(bytes, "polyline"), 1);
  // 4500 bytes per round over 8 rounds: a flat line in kB.
  auto pts = xmlcheck::FirstPolylinePoints(bytes);
  ASSERT_EQ(pts.size(), 8u);
  EXPECT_DOUBLE_EQ(pts.front().second, pts.back().second);
  EXPECT_NE(bytes.find("(kB)"), std::string::npos);

  std::string csv = ReadAll(dir_ + "/metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 3 * 4);
}

TEST_F(ReportTest, MeanCurvePeaksAtTheTopOfThePlot) {
  RunData run = FakeRun("wa", 0.5);
  ASSERT_TRUE(WriteRunReport(dir_, run, topology_, "cmd").ok());
  std::string svg = ReadAll(dir_ + "/accuracy.svg");
  // The mean is the last polyline; it rises every evaluation.
  size_t last = svg.rfind("<polyline");
  auto mean = xmlcheck::FirstPolylinePoints(svg, last);
  ASSERT_EQ(mean.size(), 4u);
  for (size_t i = 1; i < mean.size(); ++i) {
    EXPECT_GT(mean[i].first, mean[i - 1].first);
    EXPECT_LT(mean[i].second, mean[i - 1].second);  // higher accuracy, smaller pixel y
  }
}

TEST_F(ReportTest, TopologyPictureNamesEveryNode) {
  if (!FindOnPath("neato")) GTEST_SKIP() << "Graphviz not installed";
  ASSERT_TRUE(WriteRunReport(dir_, FakeRun("dimat", 0.5), topology_, "cmd").ok());
  std::string svg = ReadAll(dir_ + "/topology.svg");
  for (const char* node : {"n0", "n1", "n2", "127.0.0.1:47001", "acc 0.8500"}) {
    EXPECT_NE(svg.find(node), std::string::npos) << node;
  }
  std::string html = ReadAll(dir_ + "/report.html");
  EXPECT_NE(html.find("<img src=\"topology.svg\""), std::string::npos);
}

TEST_F(ReportTest, WithoutGraphvizWritesColouredDotAndSaysHowToInstall) {
  const char* old_path = std::getenv("PATH");
  std::string saved = old_path ? old_path : "";
  ::setenv("PATH", (dir_ + "/no-such-bin").c_str(), 1);
  auto files = WriteRunReport(dir_, FakeRun("dimat", 0.5), topology_, "cmd");
  ::setenv("PATH", saved.c_str(), 1);
  ASSERT_TRUE(files.ok());
  EXPECT_NE(std::find(files->begin(), files->end(), "topology-colored.dot"), files->end());
  EXPECT_FALSE(fs::exists(dir_ + "/topology.svg"));
  std::string dot = ReadAll(dir_ + "/topology-colored.dot");
  EXPECT_NE(dot.find("fillcolor"), std::string::npos);
  std::string html = ReadAll(dir_ + "/report.html");
  EXPECT_NE(html.find("apt-get install graphviz"), std::string::npos);
  EXPECT_NE(html.find("href=\"topology-colored.dot\""), std::string::npos);
}

TEST_F(ReportTest, MissingTopologyIsANoteNotAFailure) {
  auto files = WriteRunReport(dir_, FakeRun("dimat", 0.5), dir_ + "/absent.dot", "cmd");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->size(), 4u);
  EXPECT_NE(ReadAll(dir_ + "/report.html").find("cannot read the topology"), std::string::npos);
}

TEST_F(ReportTest, RunWithoutAgentsStillProducesAReport) {
  RunData run;
  run.label = "empty";
  auto files = WriteRunReport(dir_, run, "", "");
  ASSERT_TRUE(files.ok());
  EXPECT_TRUE(xmlcheck::BalancedTags(ReadAll(dir_ + "/report.html")));
  EXPECT_EQ(xmlcheck::CountTag(ReadAll(dir_ + "/accuracy.svg"), "polyline"), 1);  // empty mean
}

TEST_F(ReportTest, UnwritableFolderIsAnError) {
  std::ofstream(dir_ + "/file") << "x";
  auto files = WriteRunReport(dir_ + "/file/sub", FakeRun("dimat", 0.5), topology_, "cmd");
  EXPECT_FALSE(files.ok());
  EXPECT_EQ(files.status().code(), StatusCode::kIoError);
}

TEST_F(ReportTest, CompareReportOverlaysRunsAndTabulatesTargets) {
  std::vector<RunData> runs = {FakeRun("dimat", 0.5), FakeRun("wa", 0.3)};
  runs[0].report_href = "dimat/report.html";
  auto files = WriteCompareReport(dir_, runs, 0.7, "grapevine launch --compare dimat,wa");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  EXPECT_EQ(*files, (std::vector<std::string>{"metrics.csv", "accuracy.svg", "bytes.svg",
                                               "accuracy_bytes.svg", "compare.json",
                                               "compare.csv", "report.html"}));
  std::string html = ReadAll(dir_ + "/report.html");
  EXPECT_TRUE(xmlcheck::BalancedTags(html));
  for (const auto& f : *files) EXPECT_NE(html.find("href=\"" + f + "\""), std::string::npos) << f;
  EXPECT_NE(html.find("href=\"dimat/report.html\""), std::string::npos);

  // dimat mean per eval (metrics rounds 1,3,5,7): 0.55, 0.65, 0.75, 0.85 -> 0.7 at round 6.
  // wa: 0.35 .. 0.65, never.
  auto table = nlohmann::json::parse(ReadAll(dir_ + "/compare.json"));
  ASSERT_EQ(table["runs"].size(), 2u);
  EXPECT_EQ(table["runs"][0]["rounds_to_target"], 6);
  EXPECT_TRUE(table["runs"][1]["rounds_to_target"].is_null());
  EXPECT_NEAR(table["runs"][0]["final_mean_accuracy"].get<double>(), 0.85, 1e-12);
  EXPECT_EQ(table["runs"][1]["bytes_sent_total"], 3 * 1500 * 8);
  EXPECT_TRUE(table["runs"][0]["complete"].get<bool>());
  EXPECT_EQ(table["target"], 0.7);
  // Never reached: a dash in the page, an empty cell in compare.csv.
  EXPECT_NE(html.find(">—</td>"), std::string::npos);
  std::string compare_csv = ReadAll(dir_ + "/compare.csv");
  EXPECT_EQ(compare_csv.substr(0, compare_csv.find('\n')),
            "run,complete,final_mean_accuracy,final_min_accuracy,final_max_accuracy,"
            "rounds_to_target,rounds,bytes_sent_total,bytes_to_target,wall_seconds,agents,"
            "agents_reporting");
  EXPECT_NE(compare_csv.find("\ndimat,true,0.85,"), std::string::npos) << compare_csv;
  EXPECT_NE(compare_csv.find("\nwa,true,0.65,"), std::string::npos) << compare_csv;
  EXPECT_EQ(std::count(compare_csv.begin(), compare_csv.end(), '\n'), 3);

  std::string accuracy = ReadAll(dir_ + "/accuracy.svg");
  EXPECT_EQ(xmlcheck::CountTag(accuracy, "polyline"), 3);  // two means and the target
  EXPECT_EQ(xmlcheck::CountTag(accuracy, "polygon"), 2);
  EXPECT_EQ(xmlcheck::CountTag(ReadAll(dir_ + "/bytes.svg"), "polyline"), 2);
  EXPECT_EQ(xmlcheck::CountTag(ReadAll(dir_ + "/accuracy_bytes.svg"), "polyline"), 2);  // one per run
  EXPECT_NE(html.find("Accuracy versus bytes"), std::string::npos);
  std::string csv = ReadAll(dir_ + "/metrics.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 3 * 4);
}

}  // namespace
}  // namespace grapevine::tools

namespace grapevine::tools {
namespace {

class ReadRunFolderTest : public ReportTest {
 protected:
  void WriteMetrics(const AgentMetrics& a) {
    fs::create_directories(dir_ + "/metrics");
    std::ofstream out(dir_ + "/metrics/" + a.node + ".jsonl");
    for (const auto& l : a.records) out << agent::ToJsonLine(l) << "\n";
  }
};

TEST_F(ReadRunFolderTest, AgentsInTopologyOrderWithSummary) {
  std::ofstream(topology_) << "graph g { n10 [addr=\"h:1\"]; n9 [addr=\"h:2\"]; n10 -- n9; }\n";
  WriteMetrics(Agent("n9", 4, 2, 0.5, 0.1, 10));
  WriteMetrics(Agent("n10", 4, 2, 0.5, 0.1, 10));
  WriteMetrics(Agent("extra", 2, 1, 0.5, 0.1, 10));
  std::ofstream(dir_ + "/summary.json") << R"({"algo": "choco", "wall_seconds": 3})";
  std::ofstream(dir_ + "/metrics/n9.jsonl", std::ios::app) << "{\"round\": 4, \"trunc";
  auto run = ReadRunFolder(dir_);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->label, "choco");
  ASSERT_EQ(run->agents.size(), 3u);
  EXPECT_EQ(run->agents[0].node, "n10");
  EXPECT_EQ(run->agents[1].node, "n9");
  EXPECT_EQ(run->agents[2].node, "extra");
  EXPECT_EQ(run->agents[1].records.size(), 4u);
  ASSERT_EQ(run->agents[1].errors.size(), 1u);
  // The truncated line is the 5th of n9's file, named with file:line.
  EXPECT_NE(run->agents[1].errors[0].find("metrics/n9.jsonl:5: not JSON"), std::string::npos)
      << run->agents[1].errors[0];
  EXPECT_EQ(run->summary["wall_seconds"], 3);

  // The report of a folder read back links each agent's metrics file.
  ASSERT_TRUE(WriteRunReport(dir_, *run, topology_, "cmd").ok());
  EXPECT_NE(ReadAll(dir_ + "/report.html").find("href=\"metrics/n9.jsonl\""), std::string::npos);
}

TEST_F(ReadRunFolderTest, MalformedSummaryAndMissingFolder) {
  WriteMetrics(Agent("a", 2, 1, 0.5, 0.1, 10));
  std::ofstream(dir_ + "/summary.json") << "{not json";
  auto run = ReadRunFolder(dir_ + "/");
  ASSERT_TRUE(run.ok());
  EXPECT_TRUE(run->summary.is_object());
  EXPECT_EQ(run->label, fs::path(dir_).filename().string());
  auto missing = ReadRunFolder(dir_ + "/nothing");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

TEST_F(ReportTest, NamesAreEscapedInTheHtml) {
  RunData run = FakeRun("<algo>", 0.5);
  run.agents[0].node = "<script>";
  ASSERT_TRUE(WriteRunReport(dir_, run, "", "a & b").ok());
  std::string html = ReadAll(dir_ + "/report.html");
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_EQ(html.find("<algo>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;"), std::string::npos);
  EXPECT_NE(html.find("a &amp; b"), std::string::npos);
  EXPECT_TRUE(xmlcheck::BalancedTags(html));
}

TEST_F(ReportTest, CompareUsesTheSummaryWhenARunHasNoMetrics) {
  RunData only_summary;
  only_summary.label = "old";
  only_summary.summary = {{"final", {{"mean_accuracy", 0.61}, {"min_accuracy", 0.5},
                                     {"max_accuracy", 0.7}}},
                          {"bytes_sent_total", 1234},
                          {"wall_seconds", 9.5}};
  auto files = WriteCompareReport(dir_, {FakeRun("dimat", 0.5), only_summary}, 0.7, "cmd");
  ASSERT_TRUE(files.ok());
  auto table = nlohmann::json::parse(ReadAll(dir_ + "/compare.json"));
  EXPECT_NEAR(table["runs"][1]["final_mean_accuracy"].get<double>(), 0.61, 1e-12);
  EXPECT_EQ(table["runs"][1]["bytes_sent_total"], 1234);
  EXPECT_EQ(table["runs"][1]["wall_seconds"], 9.5);
  EXPECT_TRUE(table["runs"][1]["rounds_to_target"].is_null());
}

TEST_F(ReportTest, ComparePartialRunsAndExtraKeys) {
  RunData stopped = FakeRun("wa", 0.3);
  stopped.summary = {{"complete", false}, {"wall_seconds", 2.5}};
  stopped.label = "a,\"b\"";
  nlohmann::json extra = {{"setting", {{"seed", 7}}}, {"interrupted", true}};
  ASSERT_TRUE(WriteCompareReport(dir_, {FakeRun("dimat", 0.5), stopped}, 0.7, "cmd", extra).ok());
  auto table = nlohmann::json::parse(ReadAll(dir_ + "/compare.json"));
  EXPECT_EQ(table["setting"]["seed"], 7);
  EXPECT_TRUE(table["interrupted"].get<bool>());
  EXPECT_TRUE(table["runs"][0]["complete"].get<bool>());
  EXPECT_FALSE(table["runs"][1]["complete"].get<bool>());
  EXPECT_EQ(table["runs"][1]["wall_seconds"], 2.5);
  const std::string html = ReadAll(dir_ + "/report.html");
  EXPECT_NE(html.find("(partial)"), std::string::npos);
  EXPECT_NE(html.find("Setting (every run)"), std::string::npos);  // extra["setting"] shown
  EXPECT_TRUE(xmlcheck::BalancedTags(html));
  // A label with a comma and quotes is quoted in the CSV.
  EXPECT_NE(ReadAll(dir_ + "/compare.csv").find("\n\"a,\"\"b\"\"\",false,"), std::string::npos)
      << ReadAll(dir_ + "/compare.csv");
}

}  // namespace
}  // namespace grapevine::tools
