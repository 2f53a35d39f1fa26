// Integration: a 4-ring of real agents with --checkpoint-every 2; node 2 is killed -9
// once it reached round 12 and started again with the same command. It must resume
// from a checkpoint of round >= 10 (Fashion-MNIST, about 0.3 s a round, so the kill
// lands while it trains), merge again within 2 rounds and finish; every agent
// finishes. 127.0.0.1, bounded waits, every process stopped by the harness.
#include <signal.h>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

class CheckpointKillTest : public IntegrationTest {};

TEST_F(CheckpointKillTest, KilledAgentResumesAndFinishes) {
  std::vector<int> ports;
  for (int i = 0; i < 4; ++i) ports.push_back(FreePort());
  const std::string ring = WriteRing("ring.dot", ports);
  auto args = [&](int i) {
    const std::string id = std::to_string(i);
    return std::vector<std::string>{
        "agent", "--topology", ring, "--node", id, "--metrics", dir() + "/m" + id + ".jsonl",
        "--algo", "wa", "--rounds", "24", "--local-steps", "40", "--eval-samples", "500", "--deadline-max-ms", "500", "--checkpoint-dir",
        dir() + "/ck/node-" + id, "--checkpoint-every", "2"};
  };
  std::vector<Process*> agents;
  for (int i = 0; i < 4; ++i) agents.push_back(&Start("agent" + std::to_string(i), args(i)));
  const std::string m2 = dir() + "/m2.jsonl";
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto lines = ReadJsonl(m2);
        return !lines.empty() && lines.back()["round"].get<int>() >= 12;
      },
      seconds(60)))
      << "node 2 did not reach round 12";
  agents[2]->Signal(SIGKILL);
  ASSERT_TRUE(agents[2]->Wait(seconds(5)).has_value());
  Process& again = Start("agent2-again", args(2));
  ASSERT_TRUE(again.Wait(seconds(90)).has_value()) << again.Log();
  EXPECT_EQ(again.exit_code(), 0) << again.Log();
  for (int i : {0, 1, 3}) {
    ASSERT_TRUE(agents[i]->Wait(seconds(30)).has_value());
    EXPECT_EQ(agents[i]->exit_code(), 0) << agents[i]->Log();
  }
  const auto lines = ReadJsonl(m2);
  size_t resumed_at = lines.size();
  for (size_t k = 0; k < lines.size(); ++k) {
    if (lines[k].contains("resumed_from")) resumed_at = k;
  }
  ASSERT_LT(resumed_at, lines.size()) << "no resumed_from in node 2's metrics";
  const auto& first = lines[resumed_at];
  EXPECT_GE(first["resumed_from"].get<int>(), 10);
  EXPECT_EQ(first["round"].get<int>(), first["resumed_from"].get<int>() + 1);
  EXPECT_NE(again.Log().find("resuming from"), std::string::npos);
  // Merges again within 2 rounds (models_merged restarts at 0 in the new process).
  ASSERT_GT(lines.size(), resumed_at + 1);
  EXPECT_GT(lines[resumed_at + 1]["models_merged"].get<int>(), 0);
  EXPECT_EQ(lines.back()["round"].get<int>(), 23);
}

// A joiner with --checkpoint-dir, killed -9 and started again with the same command,
// joins again, takes no state transfer, resumes from its checkpoint and trains to the
// last round of its original run (the round it joined at + --rounds).
TEST_F(CheckpointKillTest, KilledJoinerResumesFromItsCheckpoint) {
  std::vector<int> ports;
  for (int i = 0; i < 3; ++i) ports.push_back(FreePort());
  const std::string ring = WriteRing("ring.dot", ports);
  for (int i = 0; i < 3; ++i) {
    const std::string id = std::to_string(i);
    Start("agent" + id, {"agent", "--topology", ring, "--node", id, "--algo", "wa", "--rounds",
                         "200", "--local-steps", "40", "--eval-samples", "300",
                         "--deadline-max-ms", "500"});
  }
  const std::string mj = dir() + "/joiner.jsonl";
  const std::vector<std::string> joiner_args{
      "agent", "--join", Addr(ports[0]), "--listen", Addr(FreePort()), "--algo", "wa",
      "--rounds", "16", "--local-steps", "40", "--eval-samples", "300", "--deadline-max-ms",
      "500", "--metrics", mj, "--checkpoint-dir", dir() + "/ck-joiner", "--checkpoint-every",
      "2"};
  Process& joiner = Start("joiner", joiner_args);
  int first_round = -1;
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto lines = ReadJsonl(mj);
        if (lines.empty()) return false;
        first_round = lines.front()["round"].get<int>();
        return lines.back()["round"].get<int>() >= first_round + 7;
      },
      seconds(90)))
      << joiner.Log();
  joiner.Signal(SIGKILL);
  ASSERT_TRUE(joiner.Wait(seconds(5)).has_value());
  Process& again = Start("joiner-again", joiner_args);
  ASSERT_TRUE(again.Wait(seconds(90)).has_value()) << again.Log();
  EXPECT_EQ(again.exit_code(), 0) << again.Log();
  EXPECT_NE(again.Log().find("resuming from"), std::string::npos) << again.Log();
  EXPECT_NE(again.Log().find("(the checkpoint was node"), std::string::npos) << again.Log();
  EXPECT_EQ(again.Log().find("state transfer: starting from"), std::string::npos) << again.Log();
  const auto lines = ReadJsonl(mj);
  size_t resumed_at = lines.size();
  for (size_t k = 0; k < lines.size(); ++k) {
    if (lines[k].contains("resumed_from")) resumed_at = k;
  }
  ASSERT_LT(resumed_at, lines.size()) << "no resumed_from in the joiner's metrics";
  const int resumed_from = lines[resumed_at]["resumed_from"].get<int>();
  EXPECT_GE(resumed_from, first_round + 5);  // checkpoints every 2 rounds
  EXPECT_EQ(lines[resumed_at]["round"].get<int>(), resumed_from + 1);
  EXPECT_EQ(lines.back()["round"].get<int>(), first_round + 15);  // its original last round
}

// SIGTERM that arrives while the agent still loads its data (the "no --secret-file"
// warning is printed just before the load) waits until the agent listens for it, then
// makes it leave like any other stop: exit 0, not death by the signal (143).
TEST_F(CheckpointKillTest, SigtermDuringDataLoadLeavesWithExitZero) {
  const std::vector<int> ports{FreePort(), FreePort()};
  const std::string ring = WriteRing("ring.dot", ports);
  Process& agent = Start("agent0", {"agent", "--topology", ring, "--node", "0", "--rounds",
                                    "50", "--checkpoint-dir", dir() + "/ck"});
  ASSERT_TRUE(WaitUntil([&] { return agent.Log().find("no --secret-file") != std::string::npos; },
                        seconds(30)))
      << agent.Log();
  agent.Signal(SIGTERM);
  ASSERT_TRUE(agent.Wait(seconds(30)).has_value()) << agent.Log();
  EXPECT_EQ(agent.exit_code(), 0) << agent.Log();
  EXPECT_NE(agent.Log().find("leaving the swarm"), std::string::npos) << agent.Log();
}

}  // namespace
}  // namespace grapevine::integration
