// Seeded graph generators for `grapevine topo gen` and for tests (DESIGN §5).
//
// Node i is named "i" and, when options.host is set, gets addr host:(base_port + i), so
// a generated file can start a swarm as is. The same (kind, n, options) always gives the
// same graph, on every platform (own SplitMix64 stream, no std distributions).
//
//   ring            cycle 0-1-..-(n-1)-0                          n >= 3
//   grid / torus    r x c lattice, r*c = n, r the largest divisor <= sqrt(n); torus wraps
//                   dimensions of length >= 3
//   complete        every pair
//   star            node 0 linked to all others
//   hypercube       n = 2^d, i ~ j when they differ in one bit
//   exponential     i ~ i + 2^k (mod n) for 2^k < n, undirected
//   random-regular  every node degree D (default 4), n*D even, simple, connected
//   erdos-renyi     each pair with probability p (default min(1, 2 ln n / n)); redrawn
//                   until connected (up to 100 draws, then an error that says so)
//   small-world     Watts–Strogatz: ring lattice of degree D (even, default 4), each edge
//                   rewired with probability p (default 0.1); redrawn until connected
//   two-hub         DIMAT's "bipartite": nodes 0 and 1 linked to every other node, not to
//                   each other                                    n >= 3
//   groups          n = G groups of K = group_size nodes (node attribute group "g0"..),
//                   complete inside; the groups joined as `inter` says (ring: g ~ g+1,
//                   a single link for G = 2; complete: every pair), each joined pair by
//                   `bridges` edges whose ends go round-robin over each group's nodes, so
//                   the bridge load spreads (groups 4 2, ring: 1-2, 3-4, 5-6, 0-7)
//                                                                 K >= 1, 1 <= bridges <= K
//
// With options.directed (`--directed`) the result is a digraph; only these kinds have a
// directed form (an edge u -> v: u sends to v):
//   ring            i -> i+1 (mod n)                              n >= 3
//   exponential     i -> i + 2^k (mod n) for 2^k < n (SGP's graph)
//   erdos-renyi     each ordered pair u -> v with probability p (default as above);
//                   redrawn until strongly connected (up to 100 draws)
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "topology/topology.h"

namespace grapevine::topology {

enum class GraphKind {
  kRing, kGrid, kTorus, kComplete, kStar, kHypercube, kExponential, kRandomRegular,
  kErdosRenyi, kSmallWorld, kTwoHub, kGroups,
};

enum class InterGroup { kRing, kComplete };

// "ring", "grid", ... as in the table above.
Result<GraphKind> ParseGraphKind(const std::string& name);
const char* GraphKindName(GraphKind kind);
std::vector<std::string> GraphKindNames();

// Port of node 0 when none is given (`topo gen`, the demo ring of `launch`). Below Linux's
// ephemeral range (32768-60999 by default): an outgoing connection never takes it.
constexpr int kDefaultBasePort = 30000;

struct GeneratorOptions {
  int degree = 0;        // random-regular, small-world; 0: default (4)
  double p = -1;         // erdos-renyi, small-world; < 0: default
  uint64_t seed = 1;
  std::string host = "127.0.0.1";  // empty: no addr attributes
  int base_port = kDefaultBasePort;
  bool directed = false;  // ring, exponential, erdos-renyi only (see above)
  int group_size = 0;     // groups: K (required)
  InterGroup inter = InterGroup::kRing;  // groups
  int bridges = 1;        // groups: edges per joined pair of groups
};

// "ring" or "complete".
Result<InterGroup> ParseInterGroup(const std::string& name);

// InvalidInput when n or the options do not fit the kind (or it has no directed form).
// groups: n is the number of groups; the graph has n * group_size nodes.
Result<Topology> Generate(GraphKind kind, int n, const GeneratorOptions& options = {});

}  // namespace grapevine::topology
