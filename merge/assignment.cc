#include "merge/assignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "base/check.h"

namespace grapevine::merge {

Eigen::MatrixXd SanitizeWeights(const Eigen::MatrixXd& weight) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  for (Eigen::Index k = 0; k < weight.size(); ++k) {
    const double w = weight.data()[k];
    if (std::isfinite(w)) {
      lo = std::min(lo, w);
      hi = std::max(hi, w);
    }
  }
  if (lo > hi) return Eigen::MatrixXd::Zero(weight.rows(), weight.cols());
  const double spread = hi - lo;
  const double bottom = lo - 1.0 - spread;
  const double top = hi + 1.0 + spread;
  Eigen::MatrixXd out = weight;
  for (Eigen::Index k = 0; k < out.size(); ++k) {
    double& w = out.data()[k];
    if (std::isnan(w)) {
      w = bottom;
    } else if (std::isinf(w)) {
      w = w > 0 ? top : bottom;
    }
  }
  return out;
}

namespace {

// Min-cost assignment on a dense row-major n×n cost array. Potentials u (rows) and
// v (columns) keep every reduced cost c(i,j) − u(i) − v(j) ≥ 0; each phase grows a
// Dijkstra tree from the new row until it reaches a free column, then flips the
// path. Index 0 is a virtual column holding the row being inserted.
std::vector<int> SolveMinCost(const std::vector<double>& cost, int n) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  std::vector<double> u(n + 1, 0.0), v(n + 1, 0.0), min_dist(n + 1);
  std::vector<int> row_of_col(n + 1, 0), way(n + 1, 0);
  std::vector<char> used(n + 1);
  for (int i = 1; i <= n; ++i) {
    row_of_col[0] = i;
    int j0 = 0;
    std::fill(min_dist.begin(), min_dist.end(), kInf);
    std::fill(used.begin(), used.end(), 0);
    do {
      used[j0] = 1;
      const int i0 = row_of_col[j0];
      const double* row = cost.data() + static_cast<size_t>(i0 - 1) * n - 1;  // 1-based
      const double ui0 = u[i0];
      double delta = kInf;
      int j1 = 0;
      for (int j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double reduced = row[j] - ui0 - v[j];
        if (reduced < min_dist[j]) {
          min_dist[j] = reduced;
          way[j] = j0;
        }
        if (min_dist[j] < delta) {
          delta = min_dist[j];
          j1 = j;
        }
      }
      GV_CHECK(j1 != 0);
      for (int j = 0; j <= n; ++j) {
        if (used[j]) {
          u[row_of_col[j]] += delta;
          v[j] -= delta;
        } else {
          min_dist[j] -= delta;
        }
      }
      j0 = j1;
    } while (row_of_col[j0] != 0);
    do {
      const int j1 = way[j0];
      row_of_col[j0] = row_of_col[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int> perm(n, -1);
  for (int j = 1; j <= n; ++j) perm[row_of_col[j] - 1] = j - 1;
  return perm;
}

}  // namespace

namespace internal {

std::vector<int> SolveMaxAssignmentImpl(const Eigen::MatrixXd& weight) {
  GV_CHECK(weight.rows() == weight.cols());
  const int n = static_cast<int>(weight.rows());
  if (n == 0) return {};
  const Eigen::MatrixXd clean = SanitizeWeights(weight);
  // Row-major negated copy: the inner loop walks one row contiguously.
  std::vector<double> cost(static_cast<size_t>(n) * n);
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < n; ++j) cost[static_cast<size_t>(i) * n + j] = -clean(i, j);
  }
  std::vector<int> perm = SolveMinCost(cost, n);
  GV_CHECK(IsPermutation(perm, n));
  return perm;
}

}  // namespace internal

double AssignmentValue(const Eigen::MatrixXd& weight, const std::vector<int>& perm) {
  GV_CHECK(weight.rows() == weight.cols());
  GV_CHECK(IsPermutation(perm, static_cast<int>(weight.rows())));
  const Eigen::MatrixXd clean = SanitizeWeights(weight);
  double total = 0.0;
  for (size_t i = 0; i < perm.size(); ++i) total += clean(static_cast<Eigen::Index>(i), perm[i]);
  return total;
}

bool IsPermutation(const std::vector<int>& perm, int n) {
  if (static_cast<int>(perm.size()) != n) return false;
  std::vector<char> seen(n, 0);
  for (int p : perm) {
    if (p < 0 || p >= n || seen[p]) return false;
    seen[p] = 1;
  }
  return true;
}

}  // namespace grapevine::merge
