// DIMAT merge (ALGORITHMS.md §1 steps 3–7): align each neighbour's hidden units to
// self's by activation correlation on self's own probe data, then average.
//
// Per neighbour j and hidden group g: run self and j forward on the same probe
// batches, accumulate Pearson statistics between self's units and j's units
// (CorrelationAccumulator), solve the maximum-weight assignment on the correlation
// matrix, and rename j's units with learn::ApplyPermutation. Finally
// x ← w_self·x_self + Σ_j w_j·P_j(x_j).
//
// Why all groups can be matched from ONE forward pass of the UNPERMUTED neighbour:
// ApplyPermutation is function-preserving. Permuting groups h < g renames units of
// earlier layers and permutes the consuming columns to match, so the values at
// group g are unchanged unit for unit; permuting group g itself only relabels g's
// rows. Hence the correlation matrix of the partially permuted neighbour at g is the
// unpermuted one with columns relabelled, its optimal assignment is the same
// relabelled, and the per-group LAPs are independent. Groups also act on disjoint
// (tensor, axis) pairs, so applying all permutations afterwards in any order gives
// the same model as the sequential procedure.
//
// Dead units: a unit that never fires on the probe has zero variance and correlation
// 0 with everything, so activations cannot place it. The LAP therefore maximises
// C + kDeadUnitTieBreak·cos, where cos is the cosine similarity of the units'
// incoming weights and bias (producer rows, columns already aligned by the earlier
// groups — which is why the LAPs are solved in group order). The weight 1e-4 is
// below any correlation difference that means something on a few thousand samples
// and far above the float noise of exact ties, so live units are matched by
// activations and dead ones by weights; a permuted copy merges back exactly even
// with dead units.
//
// Weight prior: on a narrow probe (a non-IID shard with 2 classes) most units barely
// vary and their correlations are noise; pure activation matching then permutes about
// half of the units of two models that share their coordinates (same init, merged
// every round) and the merge scrambles them. β > 0 adds the weight cosine with a real
// weight, so units that are the same unit by lineage stay matched unless the
// activations disagree clearly; models from unrelated inits have cosines near 0 and
// are still matched by their activations.
//
// Cost: one forward pass of self plus one per neighbour over the probe set (self's
// activations are computed once per batch and shared), one units_a × units_b GEMM
// per (neighbour, group, batch), one LAP per (neighbour, group).
// Thread-safety: uses `model` as scratch; one call at a time per Model.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string_view>

#include "base/status.h"
#include "learn/layers.h"
#include "merge/aligned_merge.h"

namespace grapevine::learn {
class Model;
}  // namespace grapevine::learn

namespace grapevine::merge {

inline constexpr double kDeadUnitTieBreak = 1e-4;

// When DimatMerge REPAIRs the merged model:
//   kOff      never (steps 3–7 of ALGORITHMS.md §1 only);
//   kMatched  when at least one neighbour was matched (not in self's frame): the
//             merges of unrelated unit orders, where averaging shrinks units most;
//   kEvery    every merge (the official code's BN reset after every merge).
enum class RepairMode { kOff, kMatched, kEvery };

struct DimatOptions {
  int64_t probe_batch = 500;  // probe samples per forward pass
  // Weight prior β ≥ 0: the LAP maximises C + (β + kDeadUnitTieBreak)·cos. 0 is the
  // paper's pure activation matching. See "Weight prior" above.
  double weight_prior = 0.0;
  // REPAIR the merged model's hidden units (merge/repair.h) on the first
  // repair_samples probe columns (the probe is a shuffled sample of the shard).
  RepairMode repair = RepairMode::kMatched;
  int64_t repair_samples = 500;
};

// "off" | "matched" | "every" (the --dimat-repair values).
Result<RepairMode> ParseRepairMode(std::string_view text);

// Permutations aligning `other` to `self`; scores[g] = mean correlation of the
// matched pairs. probe: input features × samples (self's own data).
// Invalid on size mismatch or an empty probe set.
Result<Alignment> MatchByActivations(learn::Model& model, const Eigen::VectorXf& self,
                                     const Eigen::VectorXf& other,
                                     const learn::ConstMatrixRef& probe,
                                     const DimatOptions& options = {});

// The full DIMAT merge of self with its neighbours (weights must sum to 1 with
// self_weight). Neighbours with weight 0 are skipped (identity alignment).
Result<MergeResult> DimatMerge(learn::Model& model, const Eigen::VectorXf& self,
                               double self_weight, std::span<const NeighbourModel> neighbours,
                               const learn::ConstMatrixRef& probe,
                               const DimatOptions& options = {});

}  // namespace grapevine::merge
