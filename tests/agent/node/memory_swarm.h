// Test fixture: a swarm of real Nodes in this process over the in-memory transport on
// virtual time (agent/sim/). No sockets, no sleeps; the test thread drives the loop.
#pragma once

#include <Eigen/Core>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "agent/node_options.h"

namespace grapevine::agent::testing {

struct SwarmResult {
  bool finished = false;               // every Node's Run() returned within the limit
  std::vector<int> exit_codes;         // Run()'s result per node
  std::vector<Eigen::VectorXf> params;  // final parameters per node
  std::vector<std::vector<nlohmann::json>> metrics;  // metrics lines per node
};

// Runs one Node per node of the graph with `n` nodes and these undirected edges
// (`directed`: a digraph, edges u → v), each configured by `base` plus its node name,
// topology and metrics file; `groups[i]`, when given, is node i's `group` attribute.
// Virtual time limit: 1 hour.
SwarmResult RunMemorySwarm(int n, const std::vector<std::pair<int, int>>& edges,
                           const NodeOptions& base, bool directed = false,
                           const std::vector<std::string>& groups = {});

// Edges of a ring and of a complete graph on n nodes.
std::vector<std::pair<int, int>> RingEdges(int n, bool directed = false);
std::vector<std::pair<int, int>> CompleteEdges(int n);

}  // namespace grapevine::agent::testing
