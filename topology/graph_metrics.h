// Structural measures of a Topology: connectivity, components, degrees, diameter.
// Boost.Graph does the component search inside graph_metrics.cc; nothing here leaks it.
//
// Connectivity of a directed graph means strong connectivity (every agent's model can
// reach every other agent), which is what consensus needs.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include "topology/topology.h"

namespace grapevine::topology {

struct ComponentInfo {
  int count = 0;                  // connected (directed: strongly connected) components
  std::vector<int> component_of;  // node index -> component id 0..count-1
};

ComponentInfo Components(const Topology& topology);

// True for a non-empty (strongly) connected graph.
bool IsConnected(const Topology& topology);

struct DiameterInfo {
  std::optional<int> value;  // nullopt when empty or not (strongly) connected
  bool exact = true;         // false: lower bound from BFS sweeps (large graphs)
};

// Longest shortest path (hop count). Exact (BFS from every node, O(n·m)) up to
// `exact_limit` nodes, a double-sweep lower bound above.
DiameterInfo Diameter(const Topology& topology, int exact_limit = 20000);

// A witness that the graph is not (strongly) connected: (from, to) such that no path
// along out-edges leads from `from` to `to` (in a digraph: `to` never gets `from`'s
// model). Prefers from = node 0. nullopt when the graph is empty or (strongly) connected.
std::optional<std::pair<int, int>> FindUnreachable(const Topology& topology);

// Hop distances from `source` following out-edges; -1 when unreachable.
std::vector<int> BfsDistances(const Topology& topology, int source);

}  // namespace grapevine::topology
