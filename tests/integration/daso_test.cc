// Integration: `grapevine launch --algo daso` on 127.0.0.1 over a file of 4 groups of 2
// (the graph `grapevine topo gen groups 4 2` writes), and the bad input daso refuses.
#include <filesystem>
#include <map>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

class DasoTest : public IntegrationTest {
 protected:
  // 4 groups of 2, complete inside, the groups in a ring by the bridges 1-2, 3-4, 5-6,
  // 0-7 (as `topo gen groups 4 2`), each node on a free port.
  std::string Groups42() {
    std::string dot = "graph groups4x2 {\n";
    for (int i = 0; i < 8; ++i) {
      dot += "  " + std::to_string(i) + " [addr=\"" + Addr(FreePort()) + "\", group=g" +
             std::to_string(i / 2) + "];\n";
    }
    for (auto [u, v] : {std::pair{0, 1}, {2, 3}, {4, 5}, {6, 7}, {1, 2}, {3, 4}, {5, 6}, {0, 7}}) {
      dot += "  " + std::to_string(u) + " -- " + std::to_string(v) + ";\n";
    }
    const std::string path = dir() + "/groups.dot";
    WriteFile(path, dot + "}\n");
    return path;
  }
  static std::vector<std::string> Flags() {
    return {"--algo", "daso", "--data", "synthetic", "--model", "mlp:20-32-4", "--rounds", "6",
            "--local-steps", "20", "--daso-warmup", "1", "--daso-cooldown", "1",
            "--membership", "fast", "--deadline-max-ms", "500", "--linger-ms", "300"};
  }
};

TEST_F(DasoTest, LaunchOnFourGroupsTrainsWithBothTiers) {
  const std::string out = dir() + "/run";
  std::vector<std::string> args = {"launch", Groups42(), "--out", out, "--timeout", "90"};
  for (const std::string& f : Flags()) args.push_back(f);
  RunResult r = Run(args, seconds(110));
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(out + "/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << "no summary.json in " << out;
  EXPECT_EQ(summary.value("algo", ""), "daso");
  EXPECT_GT(summary["final"]["mean_accuracy"].get<double>(), 0.5);  // 4 classes: chance 0.25
  const auto& tiers = summary["bytes_sent_by_tier"];
  ASSERT_TRUE(tiers.contains("local") && tiers.contains("global")) << summary.dump();
  EXPECT_GT(tiers["global"].get<double>(), 0);
  EXPECT_LT(tiers["global"].get<double>(), tiers["local"].get<double>()) << tiers.dump();
  for (int i = 0; i < 8; ++i) {
    std::map<int, nlohmann::json> by_round;
    for (const auto& line : ReadJsonl(out + "/metrics/" + std::to_string(i) + ".jsonl")) {
      if (line.contains("daso_phase")) by_round[line["round"].get<int>()] = line;
    }
    ASSERT_EQ(by_round.size(), 6u) << "node " << i;
    EXPECT_EQ(by_round[0]["daso_phase"].get<int>(), 0) << "node " << i;  // warm-up
    EXPECT_EQ(by_round[2]["daso_phase"].get<int>(), 1) << "node " << i;  // cycling
    EXPECT_EQ(by_round[5]["daso_phase"].get<int>(), 2) << "node " << i;  // cool-down
    EXPECT_GT(by_round[4]["snapshots_sent_global_tier"].get<int>(), 0) << "node " << i;
    EXPECT_GT(by_round[4]["merges_global_tier"].get<int>(), 0) << "node " << i;
  }
  const std::string log = ReadFileOrEmpty(out + "/logs/0.log");
  EXPECT_NE(log.find("daso: group g0: 1 neighbour(s) in the local tier, 1 in the global tier"),
            std::string::npos) << log;
  EXPECT_NE(log.find("daso: round 1: cycling: global snapshot every 4 steps"), std::string::npos)
      << log;
}

TEST_F(DasoTest, BadInputExits2) {
  const std::string partial = dir() + "/partial.dot";
  WriteFile(partial, "graph {\n  0 [addr=\"" + Addr(FreePort()) + "\", group=a];\n  1 [addr=\"" +
                         Addr(FreePort()) + "\"];\n  0 -- 1;\n}\n");
  std::vector<std::string> args = {"agent", "--topology", partial, "--node", "0"};
  for (const std::string& f : Flags()) args.push_back(f);
  RunResult r = Run(args);
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find(partial + ":3: error: node 1 has no group"), std::string::npos)
      << r.errors;
  r = Run({"launch", Groups42(), "--algo", "daso", "--daso-merge", "average", "--out",
           dir() + "/bad"});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find("average not in {delta,faithful}"), std::string::npos) << r.errors;
}

}  // namespace
}  // namespace grapevine::integration
