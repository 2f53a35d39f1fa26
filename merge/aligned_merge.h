// The shared last step of DIMAT and weight matching: permute every neighbour into
// self's unit order, then x ← w_self·x_self + Σ_j w_j·P_j(x_j). Also the types both
// alignment methods return.
//
// An Alignment holds one permutation per symmetry group (perm[g][u] = the
// neighbour's unit that becomes unit u, i.e. learn::ApplyPermutation's convention).
// Groups act on disjoint (tensor, axis) pairs, so the per-group permutations commute
// and can be applied in any order.
//
// Thread-safety: pure functions.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"

namespace grapevine::learn {
class ParamLayout;
struct SymmetrySpec;
}  // namespace grapevine::learn

namespace grapevine::merge {

struct Alignment {
  std::vector<std::vector<int64_t>> perms;  // [group][unit]
  std::vector<double> scores;               // [group]: method-specific match quality
  int iterations = 0;                       // weight matching: coordinate-descent passes

  // Fraction of hidden units (all groups) the alignment maps away from themselves.
  double MovedFraction() const {
    int64_t moved = 0, total = 0;
    for (const auto& perm : perms) {
      for (size_t u = 0; u < perm.size(); ++u) moved += perm[u] != static_cast<int64_t>(u);
      total += static_cast<int64_t>(perm.size());
    }
    return total == 0 ? 0.0 : static_cast<double>(moved) / static_cast<double>(total);
  }
};

// A neighbour's latest model and its mixing weight w_ij. Not owned.
struct NeighbourModel {
  const Eigen::VectorXf* params = nullptr;
  double weight = 0.0;
  // Already in self's unit order (same alignment frame): merged with the identity
  // alignment, without matching.
  bool aligned = false;
};

struct MergeStats {
  // [neighbour][group]: DIMAT — mean Pearson correlation of matched unit pairs;
  // weight matching — mean cosine similarity of matched unit weight slices.
  std::vector<std::vector<double>> match_scores;
  std::vector<double> moved;    // [neighbour]: Alignment::MovedFraction()
  std::vector<int> iterations;  // weight matching: coordinate-descent passes per neighbour
  double seconds = 0.0;         // wall time of the whole merge (measurement only)
  std::vector<double> repair_scale;  // DIMAT with REPAIR: [group] mean rescale factor
};

struct MergeResult {
  Eigen::VectorXf params;
  MergeStats stats;
  std::vector<Alignment> alignments;  // per neighbour: its units → self's order
};

// Every group in its own order (scores 1).
Alignment IdentityAlignment(const learn::SymmetrySpec& symmetry);

// The inverse permutations: PermuteToSelf with Invert(a) undoes PermuteToSelf with a —
// it moves a model from self's unit order into the neighbour's.
Alignment InvertAlignment(const Alignment& alignment);

// Validates sizes and weights (Σ = 1, finite, ≥ 0) for a merge; Invalid otherwise.
Status CheckMergeInputs(const learn::ParamLayout& layout, const Eigen::VectorXf& self,
                        double self_weight, std::span<const NeighbourModel> neighbours);

// The neighbour's parameters with every group permuted into self's order.
Eigen::VectorXf PermuteToSelf(const learn::ParamLayout& layout,
                              const learn::SymmetrySpec& symmetry,
                              const Eigen::VectorXf& neighbour, const Alignment& alignment);

// w_self·self + Σ_j w_j·P_j(x_j). REQUIRES: CheckMergeInputs passed, one alignment
// per neighbour.
Eigen::VectorXf MergeAligned(const learn::ParamLayout& layout, const learn::SymmetrySpec& symmetry,
                             const Eigen::VectorXf& self, double self_weight,
                             std::span<const NeighbourModel> neighbours,
                             std::span<const Alignment> alignments);

}  // namespace grapevine::merge
