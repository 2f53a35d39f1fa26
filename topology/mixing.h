// Mixing weights W for gossip averaging (DESIGN §5): row i holds the weights agent i
// gives to its own model (w_ii) and to what it received from each neighbour (w_ij).
//
//   metropolis  w_ij = 1 / (1 + max(d_i, d_j)) on edges, w_ii = 1 - sum_j w_ij.
//               Symmetric and doubly stochastic; undirected graphs only: it needs
//               w_ij = w_ji, so it does not exist for a digraph.
//   push-sum    the matrix of SGP (ALGORITHMS.md §9): node j keeps 1/(d_j+1) and gives
//               1/(d_j+1) to each out-neighbour, d_j = out-degree, so w_ij = 1/(d_j+1)
//               for every in-neighbour j of i and w_ii = 1/(d_i+1). Column stochastic
//               (mass is conserved); push-sum's x / w de-biasing makes it reach the plain
//               average. On an undirected graph d_j is the degree.
//   uniform     w_ij = 1 / (1 + d_i) over N(i) ∪ {i}. Row stochastic; doubly stochastic
//               only on regular graphs. On a digraph N(i) = in-neighbours, d_i = in-degree.
//   file        w_ij = the edge's `weight` (undirected: both directions; u -> v sets
//               w_vu, "v averages in u's model"), w_ii = 1 - sum_j w_ij, which must be
//               >= 0: every edge needs a weight >= 0 and every row's sum must not pass 1.
//
// Thread-safety: pure functions; MixingMatrix is a value type.
#pragma once

#include <Eigen/SparseCore>
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "topology/issue.h"
#include "topology/topology.h"

namespace grapevine::topology {

enum class WeightsKind { kMetropolis, kUniform, kFile, kPushSum };

Result<WeightsKind> ParseWeightsKind(const std::string& name);
const char* WeightsKindName(WeightsKind kind);
// The CLI default: metropolis for undirected graphs, push-sum for digraphs.
// "metropolis", "uniform", "file", "push-sum".
WeightsKind DefaultWeightsKind(const Topology& topology);

// Which of the properties gossip averaging cares about hold (tolerance 1e-9).
struct MixingProperties {
  bool nonnegative = false;
  bool row_stochastic = false;     // every row sums to 1 (consensus on *some* average)
  bool column_stochastic = false;  // every column sums to 1
  bool symmetric = false;
  bool doubly_stochastic = false;  // nonnegative, rows and columns sum to 1 (exact average)
  double max_row_error = 0;        // max |row sum - 1|
  double max_column_error = 0;     // max |column sum - 1|
};

using SparseRowMatrix = Eigen::SparseMatrix<double, Eigen::RowMajor>;

struct MixingMatrix {
  WeightsKind kind = WeightsKind::kMetropolis;
  SparseRowMatrix w;  // n x n
  MixingProperties properties;

  int size() const { return static_cast<int>(w.rows()); }
  // Row i as (j, w_ij) pairs, j ascending, w_ii included.
  std::vector<std::pair<int, double>> Row(int i) const;
};

// The Metropolis weight between adjacent nodes of degrees d_i and d_j:
// 1 / (1 + max(d_i, d_j)). The one formula behind both MixingWeights(kMetropolis) and the
// agent's live row (agent/core/membership.cc, on the live degrees).
double MetropolisWeight(std::size_t degree_i, std::size_t degree_j);

MixingProperties CheckProperties(const SparseRowMatrix& w, double tolerance = 1e-9);

// InvalidInput (metropolis on a digraph; missing, negative or over-full `file`
// weights). When `issues` is given, each problem is also appended there with its line.
Result<MixingMatrix> MixingWeights(const Topology& topology, WeightsKind kind,
                                   std::vector<Issue>* issues = nullptr);

}  // namespace grapevine::topology
