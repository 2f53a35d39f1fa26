#include "topology/graph_metrics.h"

#include <algorithm>
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/connected_components.hpp>
#include <boost/graph/strong_components.hpp>

namespace grapevine::topology {
namespace {

template <typename Graph>
Graph ToBoost(const Topology& topology) {
  Graph graph(static_cast<size_t>(topology.num_nodes()));
  for (int u = 0; u < topology.num_nodes(); ++u) {
    for (int v : topology.OutNeighbors(u)) {
      // Undirected adjacency lists hold both directions; add each edge once.
      if (topology.directed() || u < v) boost::add_edge(static_cast<size_t>(u), static_cast<size_t>(v), graph);
    }
  }
  return graph;
}

// Compressed out-adjacency for the BFS loops: faster than walking Boost's lists and
// the diameter runs n of them.
struct Csr {
  std::vector<int> offsets;
  std::vector<int> targets;
};

Csr BuildCsr(const Topology& topology) {
  Csr csr;
  csr.offsets.reserve(static_cast<size_t>(topology.num_nodes()) + 1);
  csr.offsets.push_back(0);
  for (int u = 0; u < topology.num_nodes(); ++u) {
    const std::vector<int>& out = topology.OutNeighbors(u);
    csr.targets.insert(csr.targets.end(), out.begin(), out.end());
    csr.offsets.push_back(static_cast<int>(csr.targets.size()));
  }
  return csr;
}

// Returns the eccentricity of `source` (-1 if some node is unreachable) and the
// farthest node in *farthest.
int Bfs(const Csr& csr, int source, std::vector<int>& dist, std::vector<int>& queue,
        int* farthest) {
  std::fill(dist.begin(), dist.end(), -1);
  size_t head = 0;
  queue.clear();
  queue.push_back(source);
  dist[static_cast<size_t>(source)] = 0;
  int last = source;
  while (head < queue.size()) {
    int u = queue[head++];
    last = u;
    for (int k = csr.offsets[static_cast<size_t>(u)]; k < csr.offsets[static_cast<size_t>(u) + 1]; ++k) {
      int v = csr.targets[static_cast<size_t>(k)];
      if (dist[static_cast<size_t>(v)] < 0) {
        dist[static_cast<size_t>(v)] = dist[static_cast<size_t>(u)] + 1;
        queue.push_back(v);
      }
    }
  }
  if (farthest) *farthest = last;
  if (queue.size() != dist.size()) return -1;
  return dist[static_cast<size_t>(last)];
}

}  // namespace

ComponentInfo Components(const Topology& topology) {
  ComponentInfo info;
  const size_t n = static_cast<size_t>(topology.num_nodes());
  info.component_of.assign(n, 0);
  if (n == 0) return info;
  if (topology.directed()) {
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
    Graph graph = ToBoost<Graph>(topology);
    info.count = boost::strong_components(
        graph, boost::make_iterator_property_map(info.component_of.begin(),
                                                 boost::get(boost::vertex_index, graph)));
  } else {
    using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS>;
    Graph graph = ToBoost<Graph>(topology);
    info.count = boost::connected_components(graph, info.component_of.data());
  }
  return info;
}

bool IsConnected(const Topology& topology) {
  return topology.num_nodes() > 0 && Components(topology).count == 1;
}

std::vector<int> BfsDistances(const Topology& topology, int source) {
  Csr csr = BuildCsr(topology);
  std::vector<int> dist(static_cast<size_t>(topology.num_nodes()));
  std::vector<int> queue;
  Bfs(csr, source, dist, queue, nullptr);
  return dist;
}

std::optional<std::pair<int, int>> FindUnreachable(const Topology& topology) {
  if (topology.num_nodes() == 0) return std::nullopt;
  const std::vector<int> from_zero = BfsDistances(topology, 0);
  for (int v = 0; v < topology.num_nodes(); ++v) {
    if (from_zero[static_cast<size_t>(v)] < 0) return std::pair{0, v};
  }
  // Node 0 reaches everyone; a node outside its strong component cannot reach it back.
  ComponentInfo components = Components(topology);
  for (int u = 1; u < topology.num_nodes(); ++u) {
    if (components.component_of[static_cast<size_t>(u)] != components.component_of[0]) {
      return std::pair{u, 0};
    }
  }
  return std::nullopt;
}

DiameterInfo Diameter(const Topology& topology, int exact_limit) {
  DiameterInfo info;
  const int n = topology.num_nodes();
  if (n == 0 || !IsConnected(topology)) return info;
  Csr csr = BuildCsr(topology);
  std::vector<int> dist(static_cast<size_t>(n));
  std::vector<int> queue;
  queue.reserve(static_cast<size_t>(n));
  int best = 0;
  if (n <= exact_limit) {
    for (int s = 0; s < n; ++s) best = std::max(best, Bfs(csr, s, dist, queue, nullptr));
  } else {
    // Double sweep from a few starts: each eccentricity is a lower bound.
    info.exact = false;
    int start = 0;
    for (int sweep = 0; sweep < 4; ++sweep) {
      int farthest = start;
      best = std::max(best, Bfs(csr, start, dist, queue, &farthest));
      start = farthest;
    }
  }
  info.value = best;
  return info;
}

}  // namespace grapevine::topology
