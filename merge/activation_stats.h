// Streaming Pearson correlation between two sets of units observed on the same
// samples: self's units a (rows of A) and a neighbour's units b (rows of B). DIMAT
// feeds one accumulator per (neighbour, hidden group) with probe batches and then
// reads C[a,b] = cov(a,b) / max(sqrt(var a · var b), 1e-7).
//
// Precision: the cross-product block Σ a bᵀ is one float GEMM per batch (the only
// O(units² · samples) work), everything else and all totals across batches are in
// double. Post-ReLU activations have means large compared with their spread, so the
// textbook Σab/n − mean·mean form cancels catastrophically in float. Both inputs
// are therefore shifted by a per-unit reference (the first batch's mean) before
// the GEMM: covariance is shift-invariant, the shifted values are O(std), and the
// float GEMM's relative error (~√k · 2⁻²⁴ for a k-term dot) stays near 1e-5 of the
// covariance. Batches wider than kMaxGemmColumns are split so k stays bounded
// (conv groups have batch·H·W samples).
//
// Thread-safety: a value type; one accumulator per thread.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace grapevine::merge {

inline constexpr double kCorrelationFloor = 1e-7;

class CorrelationAccumulator {
 public:
  static constexpr Eigen::Index kMaxGemmColumns = 4096;

  CorrelationAccumulator(int units_a, int units_b);

  // REQUIRES: a is units_a × s, b is units_b × s, same s (column k of both is the
  // same sample).
  void Add(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b);

  int64_t count() const { return count_; }
  int units_a() const { return static_cast<int>(sum_a_.size()); }
  int units_b() const { return static_cast<int>(sum_b_.size()); }

  // units_a × units_b. Zero-variance units (dead ReLUs) get 0 correlation with
  // everything. With count() < 2 every entry is 0.
  Eigen::MatrixXd Correlation() const;

 private:
  void AddChunk(const Eigen::Ref<const Eigen::MatrixXf>& a, const Eigen::Ref<const Eigen::MatrixXf>& b);

  Eigen::VectorXf shift_a_, shift_b_;  // per-unit reference, fixed by the first batch
  Eigen::VectorXd sum_a_, sum_b_;      // Σ (a − shift), Σ (b − shift)
  Eigen::VectorXd sq_a_, sq_b_;        // Σ (a − shift)², Σ (b − shift)²
  Eigen::MatrixXd cross_;              // Σ (a − shift)(b − shift)ᵀ
  Eigen::MatrixXf scratch_;            // per-chunk GEMM result
  int64_t count_ = 0;
};

}  // namespace grapevine::merge
