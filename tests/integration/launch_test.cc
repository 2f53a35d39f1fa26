// Integration: `grapevine launch` runs a whole swarm, writes summary.json, and on
// SIGINT stops every agent it started within 5 s and still writes a partial summary
// and report (DESIGN §8; issue 4, "what must hold" 5; issue 6: 8 agents, like the demo).
#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

class LaunchTest : public IntegrationTest {
 protected:
  std::string Ring4() {
    return WriteRing("ring4.dot", {FreePort(), FreePort(), FreePort(), FreePort()});
  }
  static std::vector<std::string> Flags(int rounds) {
    return {"--algo", "wa", "--data", "synthetic", "--model", "mlp:20-32-4",
            "--rounds", std::to_string(rounds),
            "--local-steps", "20", "--membership", "fast", "--deadline-max-ms", "500",
            "--linger-ms", "300"};
  }
  static std::vector<std::string> Concat(std::vector<std::string> a,
                                         const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
};

TEST_F(LaunchTest, ShortRunWritesSummary) {
  const std::string out = dir() + "/run";
  RunResult r = Run(Concat({"launch", Ring4(), "--out", out, "--timeout", "60"}, Flags(5)),
                    seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(out + "/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << "no summary.json in " << out;
  for (const char* key : {"algo", "nodes", "rounds", "wall_seconds", "final", "bytes_sent_total",
                          "per_round"}) {
    EXPECT_TRUE(summary.contains(key)) << key << " missing: " << summary.dump();
  }
  EXPECT_EQ(summary.value("algo", ""), "wa");
  EXPECT_EQ(summary.value("nodes", 0), 4);
  EXPECT_EQ(summary.value("rounds", 0), 5);
  EXPECT_GT(summary.value("wall_seconds", 0.0), 0.0);
  EXPECT_TRUE(summary["bytes_sent_total"].is_number());
  const auto& fin = summary["final"];
  for (const char* key : {"mean_accuracy", "min_accuracy", "max_accuracy"}) {
    ASSERT_TRUE(fin.contains(key) && fin[key].is_number()) << key << ": " << fin.dump();
  }
  EXPECT_LE(fin["min_accuracy"].get<double>(), fin["mean_accuracy"].get<double>());
  EXPECT_LE(fin["mean_accuracy"].get<double>(), fin["max_accuracy"].get<double>());
  EXPECT_GT(fin["mean_accuracy"].get<double>(), 0.5);  // 4 classes: chance is 0.25
  ASSERT_TRUE(summary["per_round"].is_array());
  ASSERT_EQ(summary["per_round"].size(), 5u) << summary["per_round"].dump();
  for (size_t i = 0; i < 5; ++i) {
    const auto& pr = summary["per_round"][i];
    EXPECT_EQ(pr.value("round", -1), static_cast<int>(i));
    EXPECT_TRUE(pr.contains("mean_accuracy") && pr["mean_accuracy"].is_number()) << pr.dump();
  }
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(std::filesystem::exists(out + "/metrics/" + std::to_string(i) + ".jsonl"));
    EXPECT_TRUE(std::filesystem::exists(out + "/logs/" + std::to_string(i) + ".log"));
  }
}

// A node with slowdown=4 in the file runs as a straggler: its metrics carry the factor,
// the others' do not; `topo inspect` and the run report show it.
TEST_F(LaunchTest, SlowdownAttributeMakesThatNodeAStraggler) {
  const std::vector<int> ports{FreePort(), FreePort(), FreePort()};
  std::string dot = "graph ring {\n";
  for (int i = 0; i < 3; ++i) {
    dot += "  " + std::to_string(i) + " [addr=\"" + Addr(ports[static_cast<size_t>(i)]) + "\"" +
           (i == 1 ? ", slowdown=4" : "") + "];\n";
  }
  dot += "  0 -- 1 -- 2 -- 0;\n}\n";
  const std::string ring = dir() + "/ring3.dot";
  WriteFile(ring, dot);
  RunResult inspect = Run({"topo", "inspect", ring});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.errors;
  EXPECT_NE(inspect.output.find("slowdown"), std::string::npos) << inspect.output;
  const std::string out = dir() + "/run";
  RunResult r = Run(Concat({"launch", ring, "--out", out, "--timeout", "60"}, Flags(3)),
                    seconds(90));
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  for (int i = 0; i < 3; ++i) {
    const auto lines = ReadJsonl(out + "/metrics/" + std::to_string(i) + ".jsonl");
    ASSERT_FALSE(lines.empty()) << i;
    if (i == 1) {
      EXPECT_EQ(lines.back().value("slowdown", 0.0), 4.0) << lines.back().dump();
    } else {
      EXPECT_FALSE(lines.back().contains("slowdown")) << lines.back().dump();
    }
  }
  EXPECT_NE(ReadFileOrEmpty(out + "/logs/1.log").find("slowdown 4"), std::string::npos);
  EXPECT_NE(ReadFileOrEmpty(out + "/report.html").find(">slowdown</th>"), std::string::npos);
  RunResult bad = Run({"agent", "--topology", ring, "--node", "0", "--slowdown", "0.5"});
  EXPECT_EQ(bad.exit_code, 2) << bad.output << bad.errors;
  EXPECT_NE((bad.output + bad.errors).find("--slowdown"), std::string::npos) << bad.errors;
}

TEST_F(LaunchTest, SigintStopsEveryAgentAndWritesPartialSummary) {
  const std::string out = dir() + "/run";
  Process& launcher =
      Start("launch", Concat({"launch", Ring4(), "--out", out, "--timeout", "100"},
                             Flags(1000000)));
  // Mid-run: every agent has written a few rounds.
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < 4; ++i) {
          if (ReadJsonl(out + "/metrics/" + std::to_string(i) + ".jsonl").size() < 3) return false;
        }
        return true;
      },
      seconds(30)))
      << launcher.Log();
  std::vector<pid_t> agents = ChildrenOf(launcher.pid());
  ASSERT_EQ(agents.size(), 4u);
  for (pid_t pid : agents) AlsoKillAtEnd(pid);

  const auto sent = std::chrono::steady_clock::now();
  launcher.Signal(SIGINT);
  auto code = launcher.Wait(seconds(5));
  ASSERT_TRUE(code.has_value()) << "the launcher did not exit within 5 s";
  EXPECT_NE(*code, 0);  // interrupted
  EXPECT_TRUE(WaitUntil(
      [&] {
        for (pid_t pid : agents) {
          if (ProcessAlive(pid)) return false;
        }
        return true;
      },
      seconds(5) - std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                            sent)));
  for (pid_t pid : agents) EXPECT_FALSE(ProcessAlive(pid)) << "agent pid " << pid << " remains";

  auto summary = nlohmann::json::parse(ReadFileOrEmpty(out + "/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << "no partial summary.json";
  EXPECT_FALSE(summary.value("complete", true));
  EXPECT_EQ(summary.value("nodes", 0), 4);
  EXPECT_TRUE(summary["per_round"].is_array() && !summary["per_round"].empty());
}

// Issue 6: Ctrl-C with as many agents as the default demo (8, dimat). Every agent is
// gone within 5 s of the signal, no process of the run remains, and the partial summary
// and report are written.
TEST_F(LaunchTest, SigintWithEightAgentsLeavesNothingRunning) {
  const std::string out = dir() + "/run8";
  std::vector<int> ports;
  for (int i = 0; i < 8; ++i) ports.push_back(FreePort());
  Process& launcher = Start(
      "launch8", {"launch", WriteRing("ring8.dot", ports), "--out", out, "--timeout", "100",
                  "--algo", "dimat", "--data", "synthetic", "--model", "mlp:20-32-4",
                  "--partition", "dirichlet:0.5", "--rounds", "1000000", "--local-steps", "20",
                  "--probe-samples", "200", "--membership", "fast", "--deadline-max-ms", "500",
                  "--linger-ms", "300"});
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < 8; ++i) {
          if (ReadJsonl(out + "/metrics/" + std::to_string(i) + ".jsonl").size() < 2) return false;
        }
        return true;
      },
      seconds(60)))
      << launcher.Log();
  std::vector<pid_t> agents = ChildrenOf(launcher.pid());
  ASSERT_EQ(agents.size(), 8u);
  for (pid_t pid : agents) AlsoKillAtEnd(pid);

  const auto sent = std::chrono::steady_clock::now();
  launcher.Signal(SIGINT);
  const bool all_gone = WaitUntil(
      [&] {
        for (pid_t pid : agents) {
          if (ProcessAlive(pid)) return false;
        }
        return true;
      },
      seconds(5));
  const double stop_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - sent).count();
  std::printf("8 agents gone %.2f s after SIGINT\n", stop_seconds);
  RecordProperty("agents_stop_ms", static_cast<int>(stop_seconds * 1000));
  EXPECT_TRUE(all_gone);
  for (pid_t pid : agents) EXPECT_FALSE(ProcessAlive(pid)) << "agent pid " << pid << " remains";
  auto code = launcher.Wait(seconds(15));  // the launcher also writes the report
  ASSERT_TRUE(code.has_value()) << "the launcher did not exit";
  EXPECT_EQ(*code, 130);

  auto summary = nlohmann::json::parse(ReadFileOrEmpty(out + "/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded()) << "no partial summary.json";
  EXPECT_FALSE(summary.value("complete", true));
  EXPECT_EQ(summary.value("nodes", 0), 8);
  EXPECT_TRUE(std::filesystem::exists(out + "/report.html"));
  EXPECT_NE(launcher.Log().find("interrupted: stopping 8 agents"), std::string::npos)
      << launcher.Log();
}

// Issue 16: `launch --resume RUN_DIR` restarts a stopped swarm from its run folder. A
// launch with checkpoints every 2 rounds is stopped by SIGINT mid-run (the agents write a
// checkpoint as they leave); --resume runs the same arguments in the same folder, every
// agent resumes (its metrics show "resumed_from" at or after the round it had reached,
// minus the checkpoint interval) and the swarm finishes all its rounds.
TEST_F(LaunchTest, ResumeRestartsAStoppedSwarmFromItsRunFolder) {
  const std::string out = dir() + "/run";
  constexpr int kRounds = 400;
  auto flags = Flags(kRounds);
  flags.insert(flags.end(), {"--checkpoint-every", "2", "--eval-every", "5"});
  Process& launcher =
      Start("launch", Concat({"launch", Ring4(), "--out", out, "--timeout", "100"}, flags));
  auto last_round = [&](int i) {
    auto lines = ReadJsonl(out + "/metrics/" + std::to_string(i) + ".jsonl");
    return lines.empty() ? int64_t{-1} : lines.back().value("round", int64_t{-1});
  };
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (int i = 0; i < 4; ++i) {
          if (last_round(i) < 6) return false;
        }
        return true;
      },
      seconds(30)))
      << launcher.Log();
  for (pid_t pid : ChildrenOf(launcher.pid())) AlsoKillAtEnd(pid);
  launcher.Signal(SIGINT);
  ASSERT_TRUE(launcher.Wait(seconds(6)).has_value()) << "the launcher did not stop";
  std::vector<int64_t> reached;
  for (int i = 0; i < 4; ++i) reached.push_back(last_round(i));
  ASSERT_LT(*std::max_element(reached.begin(), reached.end()), kRounds - 1)
      << "the swarm finished before it was stopped";

  RunResult r = Run({"launch", "--resume", out}, seconds(100));
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  for (int i = 0; i < 4; ++i) {
    auto lines = ReadJsonl(out + "/metrics/" + std::to_string(i) + ".jsonl");
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines.back().value("round", int64_t{-1}), kRounds - 1) << "node " << i;
    int64_t resumed = -1;
    for (const auto& l : lines) {
      if (l.contains("resumed_from")) resumed = l["resumed_from"].get<int64_t>();
    }
    EXPECT_GE(resumed, reached[static_cast<size_t>(i)] - 2) << "node " << i << " lost rounds";
    EXPECT_LE(resumed, reached[static_cast<size_t>(i)]) << "node " << i;
  }
  auto summary = nlohmann::json::parse(ReadFileOrEmpty(out + "/summary.json"), nullptr, false);
  ASSERT_FALSE(summary.is_discarded());
  EXPECT_TRUE(summary.value("complete", false)) << summary.dump();
}

}  // namespace
}  // namespace grapevine::integration
