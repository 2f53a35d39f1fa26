// Algorithm: one decentralized training algorithm (`--algo`) as the training thread
// runs it. The Node owns one, created by MakeAlgorithm, and calls RunRound once per
// round; evaluation, metrics and the round loop stay in the Node.
//
// An algorithm reaches the model and the network only through AlgorithmContext,
// which the Node implements (publish to live neighbours, collect their models
// within the adaptive deadline or --sync, poll without blocking). Exchanges are
// identified by a "tick": the round for round algorithms, the global step index for
// per-step ones, an exchange counter for lasgd; models carry it in their `round`
// field and staleness is counted in ticks.
//
// Families (agent/core/algorithms/algo_spec.h):
//  RoundMergeAlgorithm  dimat, wa, wm   E steps, publish, collect, merge, reset optimizer
//  PerStepAlgorithm     dpsgd, cdsgd    one exchange per step
//  CgaAlgorithm         cga             one exchange of models and cross-gradients per step
//  LasgdAlgorithm       lasgd           background exchange + delta-add
//  LocalAlgorithm       local           no communication
// Thread-safety: everything here runs on the training thread only.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "agent/core/algorithms/algo_spec.h"
#include "base/status.h"
#include "merge/dimat.h"
#include "proto/messages.h"

namespace grapevine::learn {
class Trainer;
}  // namespace grapevine::learn

namespace grapevine::agent {

// A neighbour's model that arrived for an exchange, validated, with its w_ij.
struct ArrivedModel {
  std::shared_ptr<const proto::ModelPayload> model;
  double weight = 0.0;
  Eigen::Map<const Eigen::VectorXf> params() const {
    return {model->values.data(), static_cast<Eigen::Index>(model->values.size())};
  }
};

// A neighbour's cross-gradient of our model (CGA), with its w_ij.
struct ArrivedGradient {
  proto::NodeId from = proto::kNoNode;
  std::shared_ptr<const proto::CrossGradient> gradient;
  double weight = 0.0;
  Eigen::Map<const Eigen::VectorXf> values() const {
    return {gradient->values.data(), static_cast<Eigen::Index>(gradient->values.size())};
  }
};

class AlgorithmContext {
 public:
  virtual ~AlgorithmContext() = default;
  virtual learn::Trainer& trainer() = 0;
  virtual bool stopping() const = 0;
  // Sends the current parameters, tagged with `tick`, to every live neighbour.
  virtual void Publish(uint64_t tick) = 0;
  // Starts waiting for the neighbours' models of `tick` (one exchange at a time).
  virtual void BeginExchange(uint64_t tick) = 0;
  // Takes what arrived; blocks at most until `block` is true and the exchange is not
  // done. Returns the models once every live neighbour delivered `tick` (or newer)
  // or the deadline passed (--sync: up to a minute); nullopt while still waiting.
  virtual std::optional<std::vector<ArrivedModel>> PollExchange(bool block) = 0;
  // CGA: Publish(tick), and every neighbour is asked to answer with the gradient of
  // this model on its own data; the next exchange also waits for those answers.
  virtual void PublishForCrossGradients(uint64_t tick) = 0;
  // CGA: after the exchange, the freshest cross-gradient of our model from each
  // neighbour of that exchange, skipping those older than the staleness bound.
  virtual std::vector<ArrivedGradient> TakeCrossGradients() = 0;
  // w_ii of the last exchange's mixing row (1 − the live neighbours' weights).
  virtual double SelfWeight() const = 0;
  // CGA: computes and sends the cross-gradients neighbours asked for. Called between
  // steps; PollExchange also answers while it waits, so two agents waiting for each
  // other's answers cannot deadlock.
  virtual void AnswerCrossGradients() = 0;
  // Records that these models were merged (counters, per-neighbour versions).
  virtual void MarkMerged(const std::vector<ArrivedModel>& models) = 0;
  // DIMAT probe: a seeded sample of the agent's own shard (features × samples).
  virtual const Eigen::MatrixXf& probe() = 0;
  // dimat / wm: the alignment frame our parameters are in (published with them).
  virtual proto::NodeId frame() const = 0;
  virtual void SetFrame(proto::NodeId frame) = 0;

  // BeginExchange + PollUntilDone.
  std::vector<ArrivedModel> Exchange(uint64_t tick);
  // Blocking polls of the open exchange until it is done (or stopping).
  std::vector<ArrivedModel> PollUntilDone();
};

class Algorithm {
 public:
  virtual ~Algorithm() = default;
  // Runs round `round` (E = steps optimizer steps); returns the mean training loss.
  virtual Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) = 0;
  // Bytes are counted by the network; this counts merges that failed and were skipped.
  uint64_t merge_failures() const { return merge_failures_; }

 protected:
  uint64_t merge_failures_ = 0;
};

struct AlgorithmOptions {
  int merge_every = 0;  // lasgd: steps between exchanges; 0 = once per round
  double dimat_weight_prior = 0.0;  // dimat: merge::DimatOptions::weight_prior
  merge::RepairMode dimat_repair = merge::RepairMode::kMatched;  // dimat: when to REPAIR
};

// REQUIRES: spec comes from algorithms::FindAlgorithm.
std::unique_ptr<Algorithm> MakeAlgorithm(const algorithms::AlgoSpec& spec,
                                         const AlgorithmOptions& options);

}  // namespace grapevine::agent
