// REPAIR after a merge (Jordan et al., "REPAIR: REnormalizing Permuted Activations
// for Interpolation Repair", ICLR 2023) — the BN-free counterpart of the DIMAT code's
// reset_bn_stats after every merge.
//
// Averaging two aligned networks shrinks each hidden unit's spread: where the
// endpoints' units are imperfectly correlated, their weighted sum varies less than
// either, the shrinkage compounds layer by layer and the merged model's later
// layers see inputs far narrower than any endpoint was trained on. REPAIR measures,
// on probe data, every hidden unit's pre-activation mean μ and standard deviation σ
// in each endpoint and in the merged model, and sets the merged unit to the merge-
// weighted average of the endpoints' statistics:
//   target μ_t = Σ_e w_e μ_e,  σ_t = Σ_e w_e σ_e
//   z ← (σ_t/σ_m)·(z − μ_m) + μ_t,
// which is exact as an edit of the unit's producer row and bias (z is affine in
// them): row ← s·row, bias ← s·(bias − μ_m) + μ_t with s = σ_t/σ_m. Groups are
// repaired in order, each measured after the earlier ones were fixed (one probe
// pass per group). Endpoint statistics come from one pass per endpoint; a
// neighbour's are read through its alignment (permutations preserve the function,
// so aligned unit u is the neighbour's unit perm[u]).
//
// A unit whose merged pre-activation is constant on the probe (σ_m ≤ 1e-6) is only
// shifted. The scale is clamped to [1/kMaxRepairScale, kMaxRepairScale] so a probe
// on which a unit barely varies cannot blow its weights up.
//
// Thread-safety: uses `model` as scratch; one call at a time per Model.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "learn/layers.h"
#include "merge/aligned_merge.h"

namespace grapevine::learn {
class Model;
}  // namespace grapevine::learn

namespace grapevine::merge {

inline constexpr double kMaxRepairScale = 10.0;

struct RepairEndpoint {
  const Eigen::VectorXf* params = nullptr;
  double weight = 0.0;
  const Alignment* alignment = nullptr;  // null: already in self's order
};

struct RepairStats {
  std::vector<double> mean_scale;  // [group]: mean s over the group's units
};

// Repairs *merged in place. Endpoint weights must be positive; they are normalised.
// Invalid on an empty probe, size mismatches or a bad alignment.
Result<RepairStats> Repair(learn::Model& model, std::span<const RepairEndpoint> endpoints,
                           const learn::ConstMatrixRef& probe, int64_t probe_batch,
                           Eigen::VectorXf* merged);

}  // namespace grapevine::merge
