// Integration: `grapevine launch --compare A,B` runs each algorithm into OUT/<algo>/ on
// the same topology, split and seed, then writes OUT/report.html, compare.json and
// compare.csv; an unknown algorithm is rejected (exit 2) before anything starts; Ctrl-C
// stops the current run and still writes the comparison of what ran (exit 130).
// Tiny setting: a ring of 4, synthetic data, an explicit small MLP (issue 6).
#include <signal.h>

#include <algorithm>
#include <filesystem>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

namespace fs = std::filesystem;

class LaunchCompareTest : public IntegrationTest {
 protected:
  std::vector<std::string> Args(const std::string& out, const std::string& compare, int rounds) {
    std::vector<std::string> args = {
        "launch", WriteRing("ring4.dot", {FreePort(), FreePort(), FreePort(), FreePort()}),
        "--out", out, "--compare", compare, "--timeout", "60",
        "--data", "synthetic", "--model", "mlp:20-32-4", "--seed", "5",
        "--partition", "dirichlet:0.5", "--rounds", std::to_string(rounds),
        "--local-steps", "20", "--membership", "fast", "--deadline-max-ms", "500",
        "--linger-ms", "300", "--target-accuracy", "0.5"};
    return args;
  }
};

TEST_F(LaunchCompareTest, RunsEachAlgorithmAndWritesTheComparison) {
  const std::string out = dir() + "/cmp";
  RunResult r = Run(Args(out, "wa,local", 4), seconds(110));
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  EXPECT_NE(r.output.find("run 1/2: wa"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("run 2/2: local"), std::string::npos) << r.output;

  // Each algorithm has a normal run folder, made with the same split and seed.
  for (const std::string algo : {"wa", "local"}) {
    const std::string run = out + "/" + algo;
    auto summary = nlohmann::json::parse(ReadFileOrEmpty(run + "/summary.json"), nullptr, false);
    ASSERT_FALSE(summary.is_discarded()) << "no " << run << "/summary.json";
    EXPECT_EQ(summary.value("algo", ""), algo);
    EXPECT_EQ(summary.value("partition", ""), "dirichlet:0.5");
    EXPECT_EQ(summary.value("seed", 0), 5);
    EXPECT_TRUE(summary.value("complete", false));
    EXPECT_EQ(summary.value("nodes", 0), 4);
    for (const char* f : {"report.html", "accuracy.svg", "metrics.csv", "topology.dot"}) {
      EXPECT_TRUE(fs::exists(run + "/" + f)) << run << "/" << f;
    }
    for (int i = 0; i < 4; ++i) {
      EXPECT_EQ(ReadJsonl(run + "/metrics/" + std::to_string(i) + ".jsonl").size(), 4u)
          << algo << " node " << i;
    }
  }

  auto table = nlohmann::json::parse(ReadFileOrEmpty(out + "/compare.json"), nullptr, false);
  ASSERT_FALSE(table.is_discarded()) << "no compare.json";
  EXPECT_EQ(table["target"], 0.5);
  EXPECT_TRUE(table.value("complete", false));
  EXPECT_FALSE(table.value("interrupted", true));
  EXPECT_EQ(table["algorithms"], nlohmann::json({"wa", "local"}));
  EXPECT_EQ(table["setting"]["partition"], "dirichlet:0.5");
  EXPECT_EQ(table["setting"]["seed"], 5);
  EXPECT_EQ(table["setting"]["nodes"], 4);
  ASSERT_EQ(table["runs"].size(), 2u) << table.dump();
  const auto& wa = table["runs"][0];
  const auto& local = table["runs"][1];
  EXPECT_EQ(wa["run"], "wa");
  EXPECT_EQ(local["run"], "local");
  for (const auto& row : {wa, local}) {
    EXPECT_TRUE(row.value("complete", false)) << row.dump();
    EXPECT_EQ(row.value("rounds", 0), 4) << row.dump();
    EXPECT_EQ(row.value("agents_reporting", 0), 4) << row.dump();
    ASSERT_TRUE(row["final_mean_accuracy"].is_number()) << row.dump();
    EXPECT_LE(row["final_min_accuracy"].get<double>(), row["final_mean_accuracy"].get<double>());
    EXPECT_LE(row["final_mean_accuracy"].get<double>(), row["final_max_accuracy"].get<double>());
    EXPECT_GT(row["wall_seconds"].get<double>(), 0.0);
    EXPECT_TRUE(row["rounds_to_target"].is_null() || row["rounds_to_target"].is_number());
  }
  // The table's numbers are the run folders' numbers. (Bytes are not asserted > 0: the
  // agent samples its byte counters on the membership tick, which a run this short may
  // finish before.)
  for (const auto& row : {wa, local}) {
    auto summary = nlohmann::json::parse(
        ReadFileOrEmpty(out + "/" + row["run"].get<std::string>() + "/summary.json"));
    EXPECT_NEAR(row["final_mean_accuracy"].get<double>(),
                summary["final"]["mean_accuracy"].get<double>(), 1e-9);
    EXPECT_EQ(row["bytes_sent_total"].get<double>(), summary["bytes_sent_total"].get<double>());
    EXPECT_NEAR(row["wall_seconds"].get<double>(), summary["wall_seconds"].get<double>(), 1e-9);
  }

  const std::string csv = ReadFileOrEmpty(out + "/compare.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 3) << csv;
  EXPECT_NE(csv.find("\nwa,true,"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\nlocal,true,"), std::string::npos) << csv;
  const std::string html = ReadFileOrEmpty(out + "/report.html");
  EXPECT_NE(html.find("href=\"wa/report.html\""), std::string::npos);
  EXPECT_NE(html.find("href=\"local/report.html\""), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);  // the overlaid curves, inline
  EXPECT_TRUE(fs::exists(out + "/accuracy.svg"));
}

TEST_F(LaunchCompareTest, UnknownAlgorithmIsRejectedBeforeAnythingStarts) {
  const std::string out = dir() + "/bad";
  RunResult r = Run(Args(out, "wa,nosuchalgo", 4), seconds(20));
  EXPECT_EQ(r.exit_code, 2) << r.output << r.errors;
  EXPECT_NE(r.errors.find("nosuchalgo"), std::string::npos) << r.errors;
  EXPECT_NE(r.errors.find("dimat"), std::string::npos) << "names the allowed set: " << r.errors;
  EXPECT_FALSE(fs::exists(out)) << "nothing is created for a rejected list";

  RunResult twice = Run(Args(out, "wa,wa", 4), seconds(20));
  EXPECT_EQ(twice.exit_code, 2) << twice.output << twice.errors;
  EXPECT_NE(twice.errors.find("twice"), std::string::npos) << twice.errors;

  RunResult empty = Run(Args(out, "wa,,local", 4), seconds(20));
  EXPECT_EQ(empty.exit_code, 2) << empty.output << empty.errors;

  std::vector<std::string> with_algo = Args(out, "wa,local", 4);
  with_algo.insert(with_algo.end(), {"--algo", "dimat"});
  EXPECT_EQ(Run(with_algo, seconds(20)).exit_code, 2);
  EXPECT_FALSE(fs::exists(out));
}

TEST_F(LaunchCompareTest, SigintStopsTheCurrentRunAndWritesThePartialComparison) {
  const std::string out = dir() + "/cmp";
  Process& launcher = Start("launch", Args(out, "wa,local", 1000000));
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < 4; ++i) {
          if (ReadJsonl(out + "/wa/metrics/" + std::to_string(i) + ".jsonl").size() < 3) {
            return false;
          }
        }
        return true;
      },
      seconds(40)))
      << launcher.Log();
  std::vector<pid_t> agents = ChildrenOf(launcher.pid());
  ASSERT_EQ(agents.size(), 4u);
  for (pid_t pid : agents) AlsoKillAtEnd(pid);

  launcher.Signal(SIGINT);
  auto code = launcher.Wait(seconds(15));
  ASSERT_TRUE(code.has_value()) << "the launcher did not exit";
  EXPECT_EQ(*code, 130);
  for (pid_t pid : agents) EXPECT_FALSE(ProcessAlive(pid)) << "agent pid " << pid << " remains";
  EXPECT_FALSE(fs::exists(out + "/local")) << "the second run must not start";

  auto table = nlohmann::json::parse(ReadFileOrEmpty(out + "/compare.json"), nullptr, false);
  ASSERT_FALSE(table.is_discarded()) << "no partial compare.json";
  EXPECT_TRUE(table.value("interrupted", false));
  EXPECT_FALSE(table.value("complete", true));
  ASSERT_EQ(table["runs"].size(), 1u) << table.dump();
  EXPECT_EQ(table["runs"][0]["run"], "wa");
  EXPECT_FALSE(table["runs"][0].value("complete", true));
  EXPECT_GE(table["runs"][0].value("rounds", 0), 3);
  EXPECT_TRUE(fs::exists(out + "/report.html"));
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(out + "/wa/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded());
  EXPECT_FALSE(summary.value("complete", true));
}

}  // namespace
}  // namespace grapevine::integration
