// Cross-gradient aggregation (CGA, Esfandiari et al. 2021), the projection step:
// per parameter tensor, combine the agent's own gradient g with its neighbours'
// cross-gradients (rows of M) as g̃ = g + Mᵀv, where v solves the small QP
//
//     min_v ½ vᵀ(MMᵀ + εI)v + (Mg)ᵀv   subject to v_j ≥ 0.5.
//
// t = #rows ≤ degree, so the QP is tiny: exact active-set enumeration (2^t faces,
// each checked against the KKT conditions) for t ≤ max_exact_rows, projected
// Gauss–Seidel beyond. When the solve fails, the caller's previous v is reused
// (ALGORITHMS.md §4). Gram products are accumulated in double: cross-gradients
// are nearly parallel late in training, and float dot products of ~10⁵ terms
// lose the small differences the QP looks at.
//
// Ownership: CgaAggregator owns the previous-v memory, keyed by neighbour id and
// tensor index (never by slot position, so churn cannot mix neighbours up).
// Thread-safety: SolveCgaQp is pure; one CgaAggregator belongs to one training
// thread.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "base/status.h"

namespace grapevine::learn {
class ParamLayout;
}  // namespace grapevine::learn

namespace grapevine::merge {

struct CgaOptions {
  double epsilon = 1e-12;      // ridge added to MMᵀ
  double lower_bound = 0.5;    // v_j ≥ lower_bound
  int max_exact_rows = 6;      // enumerate 2^t active sets up to this t
  int max_sweeps = 10000;      // projected Gauss–Seidel budget
  double tolerance = 1e-9;     // relative KKT / convergence tolerance
};

// Which method produced a QP solution.
enum class CgaMethod { kExact, kGaussSeidel };

struct CgaQpSolution {
  Eigen::VectorXd v;
  CgaMethod method = CgaMethod::kExact;
};

// Solves min ½vᵀ(gram + εI)v + linearᵀv, v ≥ lower_bound. `gram` is MMᵀ (without
// ε), `linear` is Mg. Fails (kInternal) when no KKT point is found within the
// tolerances, or (kInvalidInput) on non-finite input.
Result<CgaQpSolution> SolveCgaQp(const Eigen::MatrixXd& gram, const Eigen::VectorXd& linear,
                                 const CgaOptions& options = {});

// KKT check for the QP above: v ≥ l, gradient ≥ 0 where v = l, gradient = 0 where
// v > l, all within `tolerance` relative to the problem's scale.
bool SatisfiesCgaKkt(const Eigen::MatrixXd& gram, const Eigen::VectorXd& linear,
                     const Eigen::VectorXd& v, const CgaOptions& options = {});

// One parameter tensor inside the flat vector.
struct TensorRange {
  int64_t offset = 0;
  int64_t size = 0;
};

// One range per tensor of the layout, in layout order.
std::vector<TensorRange> TensorRangesOf(const learn::ParamLayout& layout);

struct CgaStepStats {
  int tensors = 0;
  int exact = 0;            // tensors solved by enumeration
  int gauss_seidel = 0;     // tensors solved by projected Gauss–Seidel
  int reused_previous = 0;  // tensors whose solve failed: previous v (or the bound) used
  int dropped_rows = 0;     // all-zero cross-gradient rows skipped, summed over tensors
};

class CgaAggregator {
 public:
  // REQUIRES: ranges are disjoint and non-empty.
  explicit CgaAggregator(std::vector<TensorRange> tensors, CgaOptions options = {});

  // out = per tensor g + Mᵀv with g = self_weight · self_grad and the rows of M the
  // weighted cross-gradients cross_weights[k] · cross[k] (all-zero rows dropped).
  // cross[k] is ∇ℓ(x_i; ξ_j) computed by neighbour neighbour_ids[k].
  // Fails with kInvalidInput on mismatched sizes or non-finite gradients; `out`
  // is then untouched. `out` may alias self_grad.
  Result<CgaStepStats> Aggregate(const Eigen::VectorXf& self_grad, double self_weight,
                                 std::span<const Eigen::VectorXf* const> cross,
                                 std::span<const double> cross_weights,
                                 std::span<const uint64_t> neighbour_ids, Eigen::VectorXf* out);

  // Forget the remembered v of a neighbour that left.
  void ForgetNeighbour(uint64_t id) { last_v_.erase(id); }

  const std::vector<TensorRange>& tensors() const { return tensors_; }

 private:
  std::vector<TensorRange> tensors_;
  int64_t total_size_ = 0;
  CgaOptions options_;
  std::unordered_map<uint64_t, std::vector<double>> last_v_;  // id → v per tensor
};

}  // namespace grapevine::merge
