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
// the 30000s the examples and the demo use.
int BasePort() { return 10000 + static_cast<int>(getpid() % 200) * 100; }

// A ring of `n` nodes (n = 2: one edge) on 127.0.0.1 from port_base, in `dir`.
std::filesystem::path WriteRing(const std::filesystem::path& dir, int n, int port_base) {
  const auto topo = dir / "ring.dot";
  std::ofstream f(topo);
  f << "graph ring {\n";
  for (int i = 0; i < n; ++i) {
    f << "  " << i << " [addr=\"127.0.0.1:" << port_base + i << "\"];\n";
  }
  for (int i = 0; i < (n == 2 ? 1 : n); ++i) f << "  " << i << " -- " << (i + 1) % n << ";\n";
  f << "}\n";
  return topo;
}

// Runs one Node per topology node in this process, each configured by `base` plus its
// id, topology and metrics file (dir/node<i>.jsonl). Returns each metrics file's
// records, or an empty vector after a failed test assertion.
std::vector<std::vector<nlohmann::json>> RunSwarm(const std::filesystem::path& dir, int n,
                                                  int port_base, NodeOptions base) {
  const auto topo = WriteRing(dir, n, port_base);
  std::vector<std::unique_ptr<Node>> nodes;
  for (int i = 0; i < n; ++i) {
    NodeOptions o = base;
    o.topology_path = topo.string();
    o.node = std::to_string(i);
    o.membership_preset = "fast";
    o.log_level = "warn";
    o.metrics_path = (dir / ("node" + std::to_string(i) + ".jsonl")).string();
    auto node = Node::Create(o);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    if (!node.ok()) return {};
    nodes.push_back(std::move(*node));
  }
  std::vector<int> codes(static_cast<size_t>(n), -1);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < nodes.size(); ++k) {
    threads.emplace_back([&, k] { codes[k] = nodes[k]->Run(); });
  }
  for (auto& t : threads) t.join();
  nodes.clear();
  std::vector<std::vector<nlohmann::json>> records(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    EXPECT_EQ(codes[static_cast<size_t>(i)], 0) << base.algo << " node " << i;
    std::ifstream f(dir / ("node" + std::to_string(i) + ".jsonl"));
    std::string line;
    while (std::getline(f, line)) {
      records[static_cast<size_t>(i)].push_back(nlohmann::json::parse(line));
    }
  }
  std::filesystem::remove_all(dir);
  return records;
}

// Mean final test accuracy of the ring; `frames` gets the agents' final alignment
// frames (dimat, wm).
double RunRing(const std::string& algo, int port_base, std::set<int64_t>* frames = nullptr) {
  NodeOptions o;
  o.data = "synthetic:4000:20:8";
  o.model = "mlp:20-32-8";
  o.partition = "classes:2";
  o.algo = algo;
  o.rounds = 20;
  o.local_steps = 10;
  o.recipe.batch = 32;
  o.recipe.lr = 0.05;
  o.eval_every = 20;
  o.algo_options["probe-samples"] = "200";
  o.linger_ms = 300;
  o.deadline_max_ms = 1000;
  o.seed = 3;
  const auto records = RunSwarm(TempDir(algo), kNodes, port_base, o);
  if (records.empty()) return 0;
  double sum = 0;
  for (const auto& node : records) {
    double last = 0;
    for (const auto& j : node) {
      if (j.contains("test_accuracy")) last = j["test_accuracy"].get<double>();
      if (frames != nullptr && j.contains("frame") && j["round"].get<int>() == 19) {
        frames->insert(j["frame"].get<int64_t>());
      }
    }
    sum += last;
  }
  const double mean = sum / kNodes;
  std::printf("%-6s mean final test accuracy %.4f\n", algo.c_str(), mean);
  return mean;
}

TEST(AlgorithmsRingTest, EveryAlgorithmBeatsLocal) {
  const int base = BasePort();
  const double local = RunRing("local", base);
  // Measured (seed 3): local 0.23 (each agent knows 2 of 8 classes); dimat 0.45, wa 0.45,
  // wm 0.47, dpsgd 0.67, cdsgd 0.64, cga 0.72, lasgd 0.38-0.41; 2026-12-03: sgp 0.45,
  // choco (sign) 0.66; 2026-12-04: efficient-adam (q4, one group) 0.77, daso (defaults, no
  // groups: one local tier) 0.66.
  EXPECT_LT(local, 0.40);
  const char* algos[] = {"dimat", "wa",  "wm",    "dpsgd", "cdsgd",
                         "cga",   "lasgd", "sgp", "choco", "efficient-adam", "daso"};
  int k = 1;
  for (const char* algo : algos) {
    const auto start = std::chrono::steady_clock::now();
    std::set<int64_t> frames;
    const double acc = RunRing(algo, base + 9 * k++, &frames);  // 8 ports each, 11 rings
    if (std::string(algo) == "dimat" || std::string(algo) == "wm") {
      // Per-node inits: after 20 rounds on a ring of 8 (diameter 4) every agent has
      // adopted node 0's unit order.
      EXPECT_EQ(frames, std::set<int64_t>{0}) << algo;
    }
    std::printf("%-6s took %.1f s\n", algo,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    EXPECT_GT(acc, local + 0.07) << algo;  // measured margins: +0.15 (lasgd) to +0.48 (cga)
  }
}

// --pretrain-steps: the agent trains alone first; its step counter at the end of round 0
// is pretrain + local steps.
TEST(AlgorithmsRingTest, PretrainStepsComeBeforeTheFirstRound) {
  NodeOptions o;
  o.data = "synthetic:400:20:4";
  o.algo = "wa";
  o.rounds = 2;
  o.local_steps = 5;
  o.pretrain_steps = 7;
  o.linger_ms = 100;
  const auto records = RunSwarm(TempDir("pretrain"), 2, BasePort() + 75, o);
  ASSERT_EQ(records.size(), 2u);
  for (const auto& node : records) {
    ASSERT_EQ(node.size(), 2u);
    EXPECT_EQ(node[0]["step"].get<int64_t>(), 7 + 5);
    EXPECT_EQ(node[1]["step"].get<int64_t>(), 7 + 10);
  }
}

}  // namespace
}  // namespace grapevine::agent
