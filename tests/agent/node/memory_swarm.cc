#include "tests/agent/node/memory_swarm.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/core/clock.h"
#include "agent/node.h"
#include "agent/sim/memory_transport.h"
#include "agent/sim/sim_loop.h"

namespace grapevine::agent::testing {

namespace fs = std::filesystem;

std::vector<std::pair<int, int>> RingEdges(int n, bool directed) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i < (n == 2 && !directed ? 1 : n); ++i) e.emplace_back(i, (i + 1) % n);
  return e;
}

std::vector<std::pair<int, int>> CompleteEdges(int n) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) e.emplace_back(i, j);
  }
  return e;
}

SwarmResult RunMemorySwarm(int n, const std::vector<std::pair<int, int>>& edges,
                           const NodeOptions& base, bool directed,
                           const std::vector<std::string>& groups) {
  static std::atomic<int> counter{0};
  const fs::path dir = fs::temp_directory_path() /
                       ("gv_mem_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
  fs::create_directories(dir);
  const fs::path topo = dir / "swarm.dot";
  {
    std::ofstream f(topo);
    f << (directed ? "digraph" : "graph") << " swarm {\n";
    // The addresses name the agents on the in-memory network; nothing binds them.
    for (int i = 0; i < n; ++i) {
      f << "  " << i << " [addr=\"127.0.0.1:" << 1000 + i << "\"";
      if (static_cast<size_t>(i) < groups.size()) f << ", group=\"" << groups[i] << "\"";
      f << "];\n";
    }
    for (const auto& [u, v] : edges) f << "  " << u << (directed ? " -> " : " -- ") << v << ";\n";
    f << "}\n";
  }
  core::ManualClock clock;
  sim::SimLoop loop(clock);
  sim::MemoryNetwork net(loop);
  std::vector<std::unique_ptr<sim::MemoryTransport>> transports;
  std::vector<std::unique_ptr<Node>> nodes;
  SwarmResult result;
  for (int i = 0; i < n; ++i) {
    NodeOptions o = base;
    o.topology_path = topo.string();
    o.node = std::to_string(i);
    o.membership_preset = "fast";
    o.metrics_path = (dir / ("node" + std::to_string(i) + ".jsonl")).string();
    transports.push_back(net.NewTransport());
    auto node = Node::Create(o, NodeEnv{transports.back().get(), &clock});
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    if (!node.ok()) return result;
    nodes.push_back(std::move(*node));
  }
  result.exit_codes.assign(static_cast<size_t>(n), -1);
  clock.HoldUntilRegistered(n);  // no agent runs ahead while the others start
  std::atomic<int> done{0};
  std::vector<std::thread> threads;
  for (size_t k = 0; k < nodes.size(); ++k) {
    threads.emplace_back([&, k] {
      result.exit_codes[k] = nodes[k]->Run();
      ++done;
      loop.Post([] {});  // wake the driver
    });
  }
  result.finished = loop.RunUntil([&] { return done.load() == n; }, std::chrono::hours(1));
  if (!result.finished) {
    ADD_FAILURE() << "swarm did not finish within 1 h of virtual time";
    std::abort();  // threads still blocked on virtual time; nothing safe to unwind
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < n; ++i) {
    result.params.push_back(nodes[static_cast<size_t>(i)]->params());
    std::vector<nlohmann::json> lines;
    std::ifstream f(dir / ("node" + std::to_string(i) + ".jsonl"));
    std::string line;
    while (std::getline(f, line)) lines.push_back(nlohmann::json::parse(line));
    result.metrics.push_back(std::move(lines));
  }
  nodes.clear();
  fs::remove_all(dir);
  return result;
}

}  // namespace grapevine::agent::testing
