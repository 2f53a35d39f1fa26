// 8 agents on a loopback ring in one process, label-skewed synthetic data (each agent
// sees 2 of 8 classes): every communicating algorithm must beat `local`, whose
// agents can at best recognise their own two classes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/node.h"

namespace grapevine::agent {
namespace {

constexpr int kNodes = 8;

std::filesystem::path TempDir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("gv_algo_" + std::to_string(getpid()) + "_" + name);
  std::filesystem::create_directories(dir);
  return dir;
}

// A port range per process, so parallel ctest runs do not collide: 10000-29999, below
// Linux's ephemeral ports (32768+, where outgoing connections take theirs) and away from
// the 47000s the examples and the demo use.
int BasePort() { return 10000 + static_cast<int>(getpid() % 250) * 80; }

// Mean final test accuracy of the ring; `frames` gets the agents' final alignment
// frames (dimat, wm).
double RunRing(const std::string& algo, int port_base, std::set<int64_t>* frames = nullptr) {
  auto dir = TempDir(algo);
  const auto topo = dir / "ring.dot";
  {
    std::ofstream f(topo);
    f << "graph ring {\n";
    for (int i = 0; i < kNodes; ++i) {
      f << "  " << i << " [addr=\"127.0.0.1:" << port_base + i << "\"];\n";
    }
    for (int i = 0; i < kNodes; ++i) f << "  " << i << " -- " << (i + 1) % kNodes << ";\n";
    f << "}\n";
  }
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < kNodes; ++i) {
    NodeOptions o;
    o.topology_path = topo.string();
    o.node = std::to_string(i);
    o.data = "synthetic:4000:20:8";
    o.model = "mlp:20-32-8";
    o.partition = "classes:2";
    o.algo = algo;
    o.rounds = 20;
    o.local_steps = 10;
    o.batch = 32;
    o.lr = 0.05f;
    o.eval_every = 20;
    o.probe_samples = 200;
    o.linger_ms = 300;
    o.deadline_max_ms = 1000;
    o.seed = 3;
    o.membership_preset = "fast";
    o.log_level = "warn";
    o.metrics_path = (dir / ("node" + std::to_string(i) + ".jsonl")).string();
    auto node = Node::Create(o);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    if (!node.ok()) return 0;
    nodes.push_back(std::move(*node));
  }
  std::vector<int> codes(kNodes, -1);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNodes; ++i) {
    const auto k = static_cast<size_t>(i);
    threads.emplace_back([&, k] { codes[k] = nodes[k]->Run(); });
  }
  for (auto& t : threads) t.join();
  nodes.clear();
  double sum = 0;
  for (int i = 0; i < kNodes; ++i) {
    EXPECT_EQ(codes[static_cast<size_t>(i)], 0) << algo << " node " << i;
    std::ifstream f(dir / ("node" + std::to_string(i) + ".jsonl"));
    std::string line;
    double last = 0;
    while (std::getline(f, line)) {
      auto j = nlohmann::json::parse(line);
      if (j.contains("test_accuracy")) last = j["test_accuracy"].get<double>();
      if (frames != nullptr && j.contains("frame") && j["round"].get<int>() == 19) {
        frames->insert(j["frame"].get<int64_t>());
      }
    }
    sum += last;
  }
  std::filesystem::remove_all(dir);
  const double mean = sum / kNodes;
  std::printf("%-6s mean final test accuracy %.4f\n", algo.c_str(), mean);
  return mean;
}

TEST(AlgorithmsRingTest, EveryAlgorithmBeatsLocal) {
  const int base = BasePort();
  const double local = RunRing("local", base);
  // Measured (seed 3): local 0.23 (each agent knows 2 of 8 classes); dimat 0.36, wa 0.35-0.42,
  // wm 0.37, dpsgd 0.62, cdsgd 0.60, cga 0.71, lasgd 0.37-0.38.
  EXPECT_LT(local, 0.40);
  const char* algos[] = {"dimat", "wa", "wm", "dpsgd", "cdsgd", "cga", "lasgd"};
  int k = 1;
  for (const char* algo : algos) {
    const auto start = std::chrono::steady_clock::now();
    std::set<int64_t> frames;
    const double acc = RunRing(algo, base + 10 * k++, &frames);
    if (std::string(algo) == "dimat" || std::string(algo) == "wm") {
      // Per-node inits: after 20 rounds on a ring of 8 (diameter 4) every agent has
      // adopted node 0's unit order.
      EXPECT_EQ(frames, std::set<int64_t>{0}) << algo;
    }
    std::printf("%-6s took %.1f s\n", algo,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_GT(acc, local + 0.07) << algo;  // measured margins: +0.11 (wa) to +0.39
  }
}

// --pretrain-steps: the agent trains alone first; its step counter at the end of round 0
// is pretrain + local steps.
TEST(AlgorithmsRingTest, PretrainStepsComeBeforeTheFirstRound) {
  auto dir = TempDir("pretrain");
  const int port = BasePort() + 75;
  const auto topo = dir / "pair.dot";
  {
    std::ofstream f(topo);
    f << "graph pair {\n  0 [addr=\"127.0.0.1:" << port << "\"];\n  1 [addr=\"127.0.0.1:"
      << port + 1 << "\"];\n  0 -- 1;\n}\n";
  }
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < 2; ++i) {
    NodeOptions o;
    o.topology_path = topo.string();
    o.node = std::to_string(i);
    o.data = "synthetic:400:20:4";
    o.algo = "wa";
    o.rounds = 2;
    o.local_steps = 5;
    o.pretrain_steps = 7;
    o.linger_ms = 100;
    o.membership_preset = "fast";
    o.log_level = "warn";
    o.metrics_path = (dir / ("node" + std::to_string(i) + ".jsonl")).string();
    auto node = Node::Create(o);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    nodes.push_back(std::move(*node));
  }
  std::vector<int> codes(2, -1);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < 2; ++k) threads.emplace_back([&, k] { codes[k] = nodes[k]->Run(); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(codes[static_cast<size_t>(i)], 0);
    std::ifstream f(dir / ("node" + std::to_string(i) + ".jsonl"));
    std::string line;
    std::vector<int64_t> steps;
    while (std::getline(f, line)) {
      steps.push_back(nlohmann::json::parse(line)["step"].get<int64_t>());
    }
    ASSERT_EQ(steps.size(), 2u);
    EXPECT_EQ(steps[0], 7 + 5);
    EXPECT_EQ(steps[1], 7 + 10);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace grapevine::agent
