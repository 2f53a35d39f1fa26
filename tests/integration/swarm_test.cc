// Integration: a swarm from a ring file grows by a joiner and survives a kill -9
// (DESIGN §4; issue 4, "what must hold" 1 and 2). Real processes on 127.0.0.1.
#include <signal.h>

#include <filesystem>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {


// Flags for agents that train "forever" (the test stops them), small and quick.
std::vector<std::string> FashionFlags() {
  return {"--model",        "mlp:784-64-10", "--rounds",   "100000", "--local-steps", "20",
          "--eval-samples", "1000",          "--membership", "fast", "--seed",        "7"};
}

std::vector<std::string> SyntheticFlags() {
  return {"--data",        "synthetic", "--model",        "mlp:20-32-4", "--rounds",
          "100000",        "--local-steps", "20",         "--membership", "fast",
          "--deadline-max-ms", "500"};
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class SwarmTest : public IntegrationTest {
 protected:
  // Starts one agent per node of a ring on free ports; returns the ports.
  std::vector<int> StartRing(int n, const std::vector<std::string>& flags) {
    std::vector<int> ports;
    for (int i = 0; i < n; ++i) ports.push_back(FreePort());
    const std::string ring = WriteRing("ring.dot", ports);
    for (int i = 0; i < n; ++i) {
      const std::string id = std::to_string(i);
      agents_.push_back(&Start(
          "agent" + id,
          Concat({"agent", "--topology", ring, "--node", id, "--metrics", Metrics(id)}, flags)));
    }
    return ports;
  }
  std::string Metrics(const std::string& name) const { return dir() + "/" + name + ".jsonl"; }

  std::vector<Process*> agents_;
};

TEST_F(SwarmTest, JoinerIsAdmittedGetsNeighbourAndLearnsFromStateTransfer) {
  if (!std::filesystem::exists(kFashionMnist)) GTEST_SKIP() << kFashionMnist << " missing";
  std::vector<int> ports = StartRing(4, FashionFlags());
  // The ring must be up before the joiner asks it (agents load the data set first).
  ASSERT_TRUE(WaitUntil([&] { return ReadJsonl(Metrics("0")).size() >= 1; }, seconds(30)))
      << "agent 0 wrote no metrics";
  const int joiner_port = FreePort();
  const std::string joiner_addr = Addr(joiner_port);
  const auto joined_at = std::chrono::steady_clock::now();
  Start("joiner", Concat({"agent", "--join", Addr(ports[2]), "--listen", joiner_addr,
                          "--metrics", Metrics("joiner")},
                         FashionFlags()));

  nlohmann::json last_view;
  bool five_alive = WaitUntil(
      [&] {
        auto live = TopoLive(Addr(ports[0]));
        if (!live) return false;
        last_view = *live;
        auto joiner = NodeByAddr(*live, joiner_addr);
        return CountInState(*live, "alive") == 5 && joiner.is_object() &&
               joiner.value("degree", 0) >= 1;
      },
      seconds(10));
  EXPECT_TRUE(five_alive) << "last view: " << last_view.dump();
  // Any member's view, not just the one the joiner went through.
  auto other = TopoLive(Addr(ports[3]));
  ASSERT_TRUE(other.has_value());
  EXPECT_TRUE(NodeByAddr(*other, joiner_addr).is_object()) << other->dump();

  double acc = -1;
  bool learned = WaitUntil(
      [&] {
        acc = LastAccuracy(Metrics("joiner"));
        return acc > 0.5;
      },
      seconds(30) - std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                             joined_at));
  EXPECT_TRUE(learned) << "joiner accuracy " << acc << " (chance is 0.1)";
  // The first evaluation already reflects the transferred state, not a fresh model.
  auto lines = ReadJsonl(Metrics("joiner"));
  ASSERT_FALSE(lines.empty());
  EXPECT_GT(lines.front().value("test_accuracy", 0.0), 0.5) << lines.front().dump();
}

TEST_F(SwarmTest, KilledAgentIsMarkedDeadAndOthersKeepTraining) {
  std::vector<int> ports = StartRing(4, SyntheticFlags());
  ASSERT_TRUE(WaitUntil(
      [&] {
        auto live = TopoLive(Addr(ports[0]));
        return live && CountInState(*live, "alive") == 4 &&
               live->value("edge_list", nlohmann::json::array()).size() == 4;
      },
      seconds(20)));
  agents_[3]->Signal(SIGKILL);
  const std::string dead_addr = Addr(ports[3]);
  const auto killed_at = std::chrono::steady_clock::now();

  // Within 15 s a survivor shows it dead and has no live edge to it.
  nlohmann::json last_view;
  bool marked_dead = WaitUntil(
      [&] {
        auto live = TopoLive(Addr(ports[1]));
        if (!live) return false;
        last_view = *live;
        auto dead = NodeByAddr(*live, dead_addr);
        if (!dead.is_object() || dead.value("state", "") != "dead") return false;
        const std::string dead_id = dead.value("id", "");
        for (const auto& e : live->value("edge_list", nlohmann::json::array())) {
          if (e[0] == dead_id || e[1] == dead_id) return false;
        }
        return true;
      },
      seconds(15));
  EXPECT_TRUE(marked_dead) << "last view: " << last_view.dump();
  EXPECT_LE(std::chrono::steady_clock::now() - killed_at, seconds(16));
  // Every survivor's view agrees (membership gossip), within the same bound.
  for (int i : {0, 2}) {
    nlohmann::json view;
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto live = TopoLive(Addr(ports[static_cast<size_t>(i)]));
          if (live) view = *live;
          return live && NodeByAddr(*live, dead_addr).value("state", "") == "dead";
        },
        seconds(5)))
        << "survivor " << i << ": " << view.dump();
  }

  // The survivors' rounds keep advancing.
  std::vector<int64_t> before;
  for (int i = 0; i < 3; ++i) {
    auto lines = ReadJsonl(Metrics(std::to_string(i)));
    before.push_back(lines.empty() ? -1 : lines.back().value("round", int64_t{-1}));
  }
  for (int i = 0; i < 3; ++i) {
    int64_t round = -1;
    EXPECT_TRUE(WaitUntil(
        [&] {
          auto lines = ReadJsonl(Metrics(std::to_string(i)));
          round = lines.empty() ? -1 : lines.back().value("round", int64_t{-1});
          return round >= before[static_cast<size_t>(i)] + 3;
        },
        seconds(15)))
        << "agent " << i << " stuck at round " << round;
    EXPECT_TRUE(agents_[static_cast<size_t>(i)]->Running()) << "survivor " << i << " exited";
  }
}

}  // namespace
}  // namespace grapevine::integration
