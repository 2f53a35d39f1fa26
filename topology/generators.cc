#include "topology/generators.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <utility>

#include "topology/graph_metrics.h"

namespace grapevine::topology {
namespace {

constexpr int kMaxNodes = 1 << 20;
constexpr int kMaxRedraws = 100;

// SplitMix64: tiny, fast, identical on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, n) for n < 2^31 (multiply-shift; bias below n / 2^32).
  int Below(int n) { return static_cast<int>(((Next() >> 32) * static_cast<uint64_t>(n)) >> 32); }
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t state_;
};

struct KindName {
  GraphKind kind;
  const char* name;
};
constexpr KindName kKindNames[] = {
    {GraphKind::kRing, "ring"},
    {GraphKind::kGrid, "grid"},
    {GraphKind::kTorus, "torus"},
    {GraphKind::kComplete, "complete"},
    {GraphKind::kStar, "star"},
    {GraphKind::kHypercube, "hypercube"},
    {GraphKind::kExponential, "exponential"},
    {GraphKind::kRandomRegular, "random-regular"},
    {GraphKind::kErdosRenyi, "erdos-renyi"},
    {GraphKind::kSmallWorld, "small-world"},
    {GraphKind::kTwoHub, "two-hub"},
    {GraphKind::kGroups, "groups"},
};

Topology Empty(int n, const GeneratorOptions& options) {
  Topology topology(options.directed);
  for (int i = 0; i < n; ++i) {
    int index = topology.FindOrAddNode(std::to_string(i));
    if (!options.host.empty()) {
      topology.mutable_node(index).addr = options.host + ":" + std::to_string(options.base_port + i);
    }
  }
  return topology;
}

using EdgeSet = std::vector<std::pair<int, int>>;

Topology Build(int n, const EdgeSet& edges, const GeneratorOptions& options) {
  Topology topology = Empty(n, options);
  for (const auto& [u, v] : edges) topology.AddEdge(u, v);
  return topology;
}

std::pair<int, int> GridShape(int n) {
  int rows = static_cast<int>(std::sqrt(static_cast<double>(n)));
  while (rows > 1 && n % rows != 0) --rows;
  return {rows, n / rows};
}

EdgeSet Lattice(int n, bool wrap) {
  auto [rows, cols] = GridShape(n);
  EdgeSet edges;
  auto id = [cols = cols](int r, int c) { return r * cols + c; };
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < cols; ++c) {
      if (c + 1 < cols) edges.emplace_back(id(r, c), id(r, c + 1));
      else if (wrap && cols >= 3) edges.emplace_back(id(r, c), id(r, 0));
      if (r + 1 < rows) edges.emplace_back(id(r, c), id(r + 1, c));
      else if (wrap && rows >= 3) edges.emplace_back(id(r, c), id(0, c));
    }
  }
  return edges;
}

// Pairs "stubs" (n*d of them) at random, skipping pairs that would make a self-loop or a
// duplicate; starts over when it gets stuck. Returns false after too many restarts.
bool RandomRegularOnce(int n, int d, Rng& rng, EdgeSet* edges) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    std::vector<int> stubs;
    stubs.reserve(static_cast<size_t>(n) * static_cast<size_t>(d));
    for (int i = 0; i < n; ++i) {
      for (int k = 0; k < d; ++k) stubs.push_back(i);
    }
    std::set<std::pair<int, int>> seen;
    edges->clear();
    bool stuck = false;
    while (!stubs.empty() && !stuck) {
      bool paired = false;
      for (int tries = 0; tries < 100 && !paired; ++tries) {
        int a = rng.Below(static_cast<int>(stubs.size()));
        int b = rng.Below(static_cast<int>(stubs.size()));
        int u = stubs[static_cast<size_t>(a)];
        int v = stubs[static_cast<size_t>(b)];
        if (a == b || u == v || seen.count({std::min(u, v), std::max(u, v)})) continue;
        seen.insert({std::min(u, v), std::max(u, v)});
        edges->emplace_back(std::min(u, v), std::max(u, v));
        // Remove both stubs (larger index first so the smaller stays valid).
        for (int idx : {std::max(a, b), std::min(a, b)}) {
          stubs[static_cast<size_t>(idx)] = stubs.back();
          stubs.pop_back();
        }
        paired = true;
      }
      stuck = !paired;
    }
    if (!stuck) return true;
  }
  return false;
}

// Undirected: each pair u < v once. Directed: each ordered pair u != v.
EdgeSet ErdosRenyiOnce(int n, double p, bool directed, Rng& rng) {
  EdgeSet edges;
  for (int u = 0; u < n; ++u) {
    for (int v = directed ? 0 : u + 1; v < n; ++v) {
      if (v != u && rng.Unit() < p) edges.emplace_back(u, v);
    }
  }
  return edges;
}

EdgeSet SmallWorldOnce(int n, int d, double p, Rng& rng) {
  std::set<std::pair<int, int>> present;
  EdgeSet edges;
  for (int u = 0; u < n; ++u) {
    for (int j = 1; j <= d / 2; ++j) {
      int v = (u + j) % n;
      edges.emplace_back(u, v);
      present.insert({std::min(u, v), std::max(u, v)});
    }
  }
  for (auto& [u, v] : edges) {
    if (rng.Unit() >= p) continue;
    // Rewire the far end to a uniformly chosen node that is not u or a neighbour.
    for (int tries = 0; tries < 32; ++tries) {
      int w = rng.Below(n);
      if (w == u || present.count({std::min(u, w), std::max(u, w)})) continue;
      present.erase({std::min(u, v), std::max(u, v)});
      present.insert({std::min(u, w), std::max(u, w)});
      v = w;
      break;
    }
  }
  return edges;
}

Status Invalid(GraphKind kind, const std::string& message) {
  return Status::Invalid(std::string(GraphKindName(kind)) + ": " + message);
}

// The seeded kinds: drawn until connected (bounded), so a generated file is usable.
Result<EdgeSet> RandomEdges(GraphKind kind, int n, const GeneratorOptions& options) {
  Rng rng(options.seed);
  EdgeSet edges;
  switch (kind) {
    case GraphKind::kRandomRegular: {
      int d = options.degree > 0 ? options.degree : 4;
      if (d >= n) return Invalid(kind, "degree must be < N");
      if ((static_cast<long long>(n) * d) % 2 != 0) return Invalid(kind, "N * degree must be even");
      bool connected = false;
      for (int draw = 0; draw < kMaxRedraws && !connected; ++draw) {
        if (!RandomRegularOnce(n, d, rng, &edges)) {
          return Invalid(kind, "could not draw a simple regular graph; try another degree");
        }
        connected = IsConnected(Build(n, edges, options));
      }
      if (!connected) {
        return Invalid(kind, "no connected graph in " + std::to_string(kMaxRedraws) +
                                 " draws; use degree >= 3");
      }
      return edges;
    }
    case GraphKind::kErdosRenyi: {
      double p = options.p >= 0 ? options.p
                                : std::min(1.0, 2.0 * std::log(std::max(n, 2)) / std::max(n, 2));
      if (p > 1) return Invalid(kind, "p must be in [0, 1]");
      bool connected = false;
      for (int draw = 0; draw < kMaxRedraws && !connected; ++draw) {
        edges = ErdosRenyiOnce(n, p, options.directed, rng);
        connected = IsConnected(Build(n, edges, options));  // digraph: strongly
      }
      if (!connected) {
        char threshold[32];
        std::snprintf(threshold, sizeof(threshold), "%.3g", std::log(std::max(n, 2)) / std::max(n, 2));
        return Invalid(kind, std::string(options.directed ? "not strongly connected" : "not connected") +
                                 " in " + std::to_string(kMaxRedraws) +
                                 " draws; raise --p above the threshold ln(N)/N = " + threshold);
      }
      return edges;
    }
    case GraphKind::kSmallWorld: {
      int d = options.degree > 0 ? options.degree : 4;
      double p = options.p >= 0 ? options.p : 0.1;
      if (d % 2 != 0 || d >= n) return Invalid(kind, "degree must be even and < N");
      if (p > 1) return Invalid(kind, "p must be in [0, 1]");
      bool connected = false;
      for (int draw = 0; draw < kMaxRedraws && !connected; ++draw) {
        edges = SmallWorldOnce(n, d, p, rng);
        connected = IsConnected(Build(n, edges, options));
      }
      if (!connected) return Invalid(kind, "not connected in 100 draws; lower --p");
      return edges;
    }
    default:
      break;
  }
  return Status::Internal("not a random graph kind");
}

// G groups of K, complete inside, bridges between the pairs `inter` joins.
Result<Topology> Groups(int g, const GeneratorOptions& options) {
  const int k = options.group_size;
  if (k < 1) return Invalid(GraphKind::kGroups, "needs the group size K >= 1 (topo gen groups G K)");
  if (static_cast<long long>(g) * k > kMaxNodes) {
    return Invalid(GraphKind::kGroups, "G * K must be at most " + std::to_string(kMaxNodes));
  }
  if (options.bridges < 1 || options.bridges > k) {
    return Invalid(GraphKind::kGroups, "--bridges must be in 1..K (" + std::to_string(k) + ")");
  }
  const int n = g * k;
  if (!options.host.empty() && (options.base_port < 1 || options.base_port + n - 1 > 65535)) {
    return Invalid(GraphKind::kGroups, "ports base-port..base-port+G*K-1 must lie in 1..65535");
  }
  EdgeSet edges;
  for (int group = 0; group < g; ++group) {
    for (int u = 0; u < k; ++u) {
      for (int v = u + 1; v < k; ++v) edges.emplace_back(group * k + u, group * k + v);
    }
  }
  EdgeSet pairs;
  if (options.inter == InterGroup::kComplete) {
    for (int a = 0; a < g; ++a) {
      for (int b = a + 1; b < g; ++b) pairs.emplace_back(a, b);
    }
  } else if (g == 2) {
    pairs.emplace_back(0, 1);
  } else if (g >= 3) {
    for (int a = 0; a < g; ++a) pairs.emplace_back(std::min(a, (a + 1) % g), std::max(a, (a + 1) % g));
  }
  // Ring pairs come as (0,1), (1,2), ..., (0,G-1): each group's counter starts at its
  // first node, group 0's at its last, so the ring joins (last of g, first of g+1).
  std::vector<int> next(static_cast<size_t>(g), 0);
  if (g > 0) next[0] = k - 1;
  for (const auto& [a, b] : pairs) {
    for (int j = 0; j < options.bridges; ++j) {
      const int u = a * k + next[static_cast<size_t>(a)]++ % k;
      const int v = b * k + next[static_cast<size_t>(b)]++ % k;
      edges.emplace_back(std::min(u, v), std::max(u, v));
    }
  }
  GeneratorOptions plain = options;
  plain.directed = false;
  Topology topology = Build(n, edges, plain);
  for (int i = 0; i < n; ++i) topology.mutable_node(i).group = "g" + std::to_string(i / k);
  return topology;
}

}  // namespace

Result<InterGroup> ParseInterGroup(const std::string& name) {
  if (name == "ring") return InterGroup::kRing;
  if (name == "complete") return InterGroup::kComplete;
  return Status::Invalid("--inter must be ring or complete, not '" + name + "'");
}

Result<GraphKind> ParseGraphKind(const std::string& name) {
  for (const KindName& k : kKindNames) {
    if (name == k.name) return k.kind;
  }
  std::string all;
  for (const std::string& n : GraphKindNames()) all += (all.empty() ? "" : ", ") + n;
  return Status::Invalid("unknown graph kind '" + name + "' (one of: " + all + ")");
}

const char* GraphKindName(GraphKind kind) {
  for (const KindName& k : kKindNames) {
    if (k.kind == kind) return k.name;
  }
  return "?";
}

std::vector<std::string> GraphKindNames() {
  std::vector<std::string> names;
  for (const KindName& k : kKindNames) names.emplace_back(k.name);
  return names;
}

Result<Topology> Generate(GraphKind kind, int n, const GeneratorOptions& options) {
  if (n < 1 || n > kMaxNodes) return Invalid(kind, "N must be in 1.." + std::to_string(kMaxNodes));
  if (kind == GraphKind::kGroups && !options.directed) return Groups(n, options);
  if (!options.host.empty() && (options.base_port < 1 || options.base_port + n - 1 > 65535)) {
    return Invalid(kind, "ports base-port..base-port+N-1 must lie in 1..65535");
  }
  if (options.directed && kind != GraphKind::kRing && kind != GraphKind::kExponential &&
      kind != GraphKind::kErdosRenyi) {
    return Invalid(kind, "has no directed form (--directed works with ring, exponential, erdos-renyi)");
  }
  EdgeSet edges;
  switch (kind) {
    case GraphKind::kRing:
      if (n < 3) return Invalid(kind, "needs N >= 3");
      for (int i = 0; i < n; ++i) edges.emplace_back(i, (i + 1) % n);
      break;
    case GraphKind::kGrid:
    case GraphKind::kTorus:
      edges = Lattice(n, kind == GraphKind::kTorus);
      break;
    case GraphKind::kComplete:
      for (int u = 0; u < n; ++u) {
        for (int v = u + 1; v < n; ++v) edges.emplace_back(u, v);
      }
      break;
    case GraphKind::kStar:
      for (int v = 1; v < n; ++v) edges.emplace_back(0, v);
      break;
    case GraphKind::kHypercube:
      if ((n & (n - 1)) != 0) return Invalid(kind, "N must be a power of two");
      for (int u = 0; u < n; ++u) {
        for (int bit = 1; bit < n; bit <<= 1) {
          if ((u & bit) == 0) edges.emplace_back(u, u | bit);
        }
      }
      break;
    case GraphKind::kExponential: {
      std::set<std::pair<int, int>> seen;
      for (int u = 0; u < n; ++u) {
        for (int hop = 1; hop < n; hop <<= 1) {
          int v = (u + hop) % n;
          std::pair<int, int> key = options.directed ? std::pair{u, v}
                                                     : std::pair{std::min(u, v), std::max(u, v)};
          if (seen.insert(key).second) edges.push_back(key);
        }
      }
      break;
    }
    case GraphKind::kRandomRegular:
    case GraphKind::kErdosRenyi:
    case GraphKind::kSmallWorld: {
      GV_ASSIGN_OR_RETURN(edges, RandomEdges(kind, n, options));
      break;
    }
    case GraphKind::kGroups:
      break;  // Groups() above
    case GraphKind::kTwoHub:
      if (n < 3) return Invalid(kind, "needs N >= 3");
      for (int v = 2; v < n; ++v) {
        edges.emplace_back(0, v);
        edges.emplace_back(1, v);
      }
      break;
  }
  return Build(n, edges, options);
}

}  // namespace grapevine::topology
