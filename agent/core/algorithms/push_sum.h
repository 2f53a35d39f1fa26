// PushSum: one agent's push-sum state for `--algo sgp` (Stochastic Gradient Push,
// Assran et al., ICML 2019; ALGORITHMS.md §9). Pure math on a flat parameter vector:
// no sockets, no clock; the sgp plug-in owns one PushSum and moves the shares.
//
// State: the numerator x_i (same layout as the model's flat parameters) and the
// push-sum weight w_i, which starts at 1. The de-biased model z_i = x_i / w_i is where
// gradients are taken and what is evaluated.
//
// One round on agent i with out-degree d (out-neighbours = where its model goes):
//   ApplyGradientStep(lr, ∇ℓ(z_i))     x ← x − lr·g                           (step 2)
//   share = Share(d)                   s = 1/(d+1); x ← s·x, w ← s·w: the kept share;
//                                      send `share` = (s·x, s·w) to every out-neighbour
//   Receive(x_j, w_j) per arrival      x ← x + x_j, w ← w + w_j                 (step 4)
//   AddBack(share) per undelivered     a share that did not reach its neighbour stays
//                                      here, so no mass is lost
// Mass conservation: over the whole swarm Σ_i w_i = n and Σ_i x_i equals the sum of the
// agents' numerators before the round (plus the gradient steps), whatever the order of
// Share / Receive / AddBack and however many shares were undelivered — as long as every
// share is either received by exactly one agent or added back by its sender. On a
// strongly connected digraph every z_i converges to the average of the initial x_i.
//
// Receive may also be called before this round's Share (arrivals overlapping local
// computation, the OSGP variant): the arrival is then part of what the next Share splits.
//
// Thread-safety: none. One PushSum belongs to one agent's training thread; the plug-in
// hands arrivals to that thread (or guards the object with its own mutex).
#pragma once

#include <Eigen/Core>

#include "base/status.h"

namespace grapevine::agent::algorithms {

// What agent i sends to each out-neighbour in one round (and what it adds back when a
// send fails). The same share goes to every out-neighbour.
struct PushSumShare {
  Eigen::VectorXf numerator;  // s·x_i
  double weight = 0.0;        // s·w_i
};

// The fraction s = 1/(out_degree + 1) an agent keeps and gives to each out-neighbour:
// column i of the push-sum mixing matrix (column stochastic). REQUIRES: out_degree >= 0.
double PushSumFraction(int out_degree);

class PushSum {
 public:
  // x = initial, w = 1.
  explicit PushSum(Eigen::VectorXf initial);
  // Resumes a saved state. REQUIRES: weight > 0 and finite.
  PushSum(Eigen::VectorXf numerator, double weight);

  const Eigen::VectorXf& numerator() const { return x_; }
  double weight() const { return w_; }
  Eigen::Index size() const { return x_.size(); }

  // z = x / w, the de-biased model.
  Eigen::VectorXf Debiased() const;
  // Same, into *z (resized as needed; no allocation when it already has the size).
  void DebiasedInto(Eigen::VectorXf* z) const;

  // Step 2 of ALGORITHMS.md §9 with the gradient taken at Debiased():
  // x ← x − lr·grad. REQUIRES: grad.size() == size().
  void ApplyGradientStep(float lr, const Eigen::VectorXf& grad);
  // x ← x + delta, for an optimizer that computes its own update (momentum, Adam):
  // step a copy of Debiased() and pass (stepped − before). REQUIRES: sizes match.
  void AddToNumerator(const Eigen::VectorXf& delta);

  // Splits the state into out_degree + 1 equal shares, keeps one and returns the one to
  // send to each out-neighbour. REQUIRES: out_degree >= 0.
  PushSumShare Share(int out_degree);

  // Adds an arrival from an in-neighbour. InvalidInput, and nothing changes, when the
  // numerator's size differs from size(), or the weight is not finite and > 0, or the
  // numerator is not finite: such a share is a bug or a hostile peer, and its mass is
  // lost to the swarm (the caller should log it).
  Status Receive(const Eigen::Ref<const Eigen::VectorXf>& numerator, double weight);
  Status Receive(const PushSumShare& share) { return Receive(share.numerator, share.weight); }

  // Takes back a share that could not be delivered (dead neighbour, deadline), so
  // Σ w stays n. REQUIRES: share came from this object's Share() (sizes match).
  void AddBack(const PushSumShare& share);

 private:
  Eigen::VectorXf x_;
  double w_;
};

}  // namespace grapevine::agent::algorithms
