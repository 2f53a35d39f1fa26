// Consensus rules shared by the gossip algorithms, as pure functions on flat
// parameter vectors (ALGORITHMS.md §2–§3). The agent feeds them what arrived; tests
// feed them hand-made vectors.
//
// Weights: `neighbours[k].weight` is w_ij for a neighbour whose model arrived. The
// weight of a neighbour that did not deliver stays with self, so the effective self
// weight is 1 − Σ_k w_k (never the nominal w_ii).
// Thread-safety: pure functions.
#pragma once

#include <Eigen/Core>
#include <span>

namespace grapevine::agent::algorithms {

struct WeightedVector {
  const Eigen::VectorXf* x = nullptr;  // not owned
  double weight = 0.0;
};

// x ← (1 − Σ w_k) x + Σ w_k x_k. REQUIRES: sizes match, Σ w_k ≤ 1.
void MixInPlace(std::span<const WeightedVector> neighbours, Eigen::VectorXf* x);

// LASGD delta-add (ALGORITHMS.md §3): the exchange started from snapshot s; the live
// model x has taken more local steps since. x ← x + (mix(s, neighbours) − s), i.e.
// x ← x + Σ_k w_k (x_k − s): the local progress x − s is kept, the consensus
// correction computed on the snapshots is added. REQUIRES: sizes match.
void DeltaAdd(const Eigen::VectorXf& snapshot, std::span<const WeightedVector> neighbours,
              Eigen::VectorXf* x);

// CD-SGD (combine then adapt): x ← mix(x_before_step, neighbours) + (x_after − x_before),
// where x_after − x_before is the local optimizer's update computed at x_before.
// `x` holds x_after on entry. REQUIRES: sizes match.
void CombineThenAdapt(const Eigen::VectorXf& before_step,
                      std::span<const WeightedVector> neighbours, Eigen::VectorXf* x);

}  // namespace grapevine::agent::algorithms
