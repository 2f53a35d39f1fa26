// Weight matching (Git Re-Basin style; ALGORITHMS.md §1 baseline): align a
// neighbour's hidden units to self's from the weights alone, no data.
//
// Objective: maximise Σ over all permuted tensors of ⟨W_self, P(W_other)⟩. It is
// not separable across groups (a dense layer's weight is moved by the group that
// produces it, on rows, and the group that consumes it, on columns), so we run
// coordinate descent: visit groups in a seeded random order; for group g build
//   S[a,b] = Σ_{(tensor, axis, block) moved by g} ⟨self slice a, other slice b⟩
// with the neighbour's OTHER groups' current permutations applied, solve the LAP
// on S, keep the new permutation only if it strictly improves. Stop after a full
// pass without change, or max_iterations passes.
//
// A slice is what one unit owns in a tensor: `block` rows (kRows) or `block`
// columns (kCols) — e.g. a conv out-channel's row, or a channel's H·W column block
// of the dense layer after a flatten. Slice products are float GEMMs.
// Thread-safety: pure functions.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>

#include "base/status.h"
#include "merge/aligned_merge.h"

namespace grapevine::merge {

struct WeightMatchingOptions {
  int max_iterations = 100;  // full passes over the groups
  uint64_t seed = 1;         // group visiting order
};

// Permutations aligning `other` to `self`; scores[g] = mean cosine similarity of the
// matched unit slices (all tensors of the group, final permutations applied);
// iterations = passes run. Invalid on size mismatch.
Result<Alignment> MatchByWeights(const learn::ParamLayout& layout,
                                 const learn::SymmetrySpec& symmetry,
                                 const Eigen::VectorXf& self, const Eigen::VectorXf& other,
                                 const WeightMatchingOptions& options = {});

// Weight-matching merge: align every neighbour independently, then
// x ← w_self·x_self + Σ_j w_j·P_j(x_j).
Result<MergeResult> WeightMatchingMerge(const learn::ParamLayout& layout,
                                        const learn::SymmetrySpec& symmetry,
                                        const Eigen::VectorXf& self, double self_weight,
                                        std::span<const NeighbourModel> neighbours,
                                        const WeightMatchingOptions& options = {});

}  // namespace grapevine::merge
