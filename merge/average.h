// Weighted average of flat parameter vectors: x ← Σ_j w_j x_j. The `wa` baseline,
// the last step of DIMAT and weight matching, and the consensus step of the
// gossip algorithms all go through it.
//
// Inputs come from peers, so malformed inputs (size mismatch, weights that do not
// sum to one, NaN weights) are expected failures returned as Status, not aborts.
// Thread-safety: pure function; `out` may alias one of the inputs.
#pragma once

#include <Eigen/Core>
#include <span>

#include "base/status.h"

namespace grapevine::merge {

// |Σ w − 1| must be at most this.
inline constexpr double kWeightSumTolerance = 1e-4;

// out = Σ_j weights[j] · (*models[j]). Weights must be finite and ≥ 0 and sum to 1
// within kWeightSumTolerance; all models must have the same size (> 0 models).
// Accumulates in float: with ≤ a few dozen terms the rounding error is far below
// the noise of one SGD step, and a double pass would double the memory traffic.
Status WeightedAverage(std::span<const Eigen::VectorXf* const> models,
                       std::span<const double> weights, Eigen::VectorXf* out);

// Same checks, for callers that only want to validate a weight row.
Status CheckMixingWeights(std::span<const double> weights);

}  // namespace grapevine::merge
