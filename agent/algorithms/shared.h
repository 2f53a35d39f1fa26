// What several plug-ins share: the arrived models as weighted vectors, the loss check,
// the round-merge schedule (dimat, wa, wm) and the alignment frame (dimat, wm).
// Thread-safety: training thread only, like the plug-ins.
#pragma once

#include <Eigen/Core>
#include <string_view>
#include <vector>

#include "agent/algorithms/algorithm.h"
#include "agent/core/algorithms/consensus.h"
#include "merge/aligned_merge.h"

namespace grapevine::agent::algorithms {

// Copies the arrived vectors once (the views alias the payloads, which stay alive in
// the caller's models) and pairs them with their weights.
struct Neighbours {
  explicit Neighbours(const std::vector<ArrivedModel>& models);
  std::vector<Eigen::VectorXf> params;
  std::vector<WeightedVector> weighted;
  double mass = 0;
};

// Internal error naming the round when the mean loss of `done` steps is not finite;
// otherwise the mean (0 for no steps).
Result<double> MeanLoss(double sum, int done, uint64_t round);

// Runs up to `steps` optimizer steps (fewer when stopping); returns the mean loss.
Result<double> LocalSteps(AlgorithmContext& ctx, uint64_t round, int steps);

// dimat, wa, wm: E local steps, publish, wait for the neighbours' round, merge. The
// optimizer policy of the row (reset) is applied by MarkMerged.
class RoundMergeAlgorithm : public Algorithm {
 public:
  explicit RoundMergeAlgorithm(std::string_view name) : name_(name) {}
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override;

 protected:
  // Merges `models` into the trainer's parameters.
  virtual Status Merge(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models) = 0;
  std::string_view name_;
};

// dimat, wm: models travel with the alignment frame of their parameters — our own id
// (per-node init), 0 (shared init) or a state-transfer model's — lowered by merges:
// the merged model takes the unit order of the neighbour with the lowest frame id when
// that is below ours, so one frame spreads over the graph (diameter rounds) and
// matching stops being needed between agents that share it (docs/algorithms.md).
class AlignedMergeAlgorithm : public RoundMergeAlgorithm {
 public:
  using RoundMergeAlgorithm::RoundMergeAlgorithm;
  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override;
  void Stamp(proto::ModelPayload* model) const override { model->frame = frame_; }
  void OnNewIdentity(const std::vector<proto::NodeId>& lost, proto::NodeId now) override;
  std::vector<Metric> Metrics() const override;
  std::vector<uint8_t> SaveState() const override;  // the frame (u32)
  Status LoadState(std::span<const uint8_t> state) override;
  proto::NodeId frame() const { return frame_; }

 protected:
  Status Merge(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models) override;
  // The alignment merge proper, given the neighbours (those in our frame flagged).
  virtual Result<merge::MergeResult> AlignedMerge(AlgorithmContext& ctx,
                                                  const Eigen::VectorXf& self,
                                                  double self_weight,
                                                  const std::vector<merge::NeighbourModel>& nm) = 0;

 private:
  void AdoptLowestFrame(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models,
                        const merge::MergeResult& merged);
  proto::NodeId frame_ = proto::kNoNode;
};

}  // namespace grapevine::agent::algorithms
