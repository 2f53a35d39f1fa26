#include "agent/algorithms/shared.h"

#include "base/bytes.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "agent/core/membership_rejoin.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

Neighbours::Neighbours(const std::vector<ArrivedModel>& models) {
  params.reserve(models.size());
  for (const auto& m : models) params.emplace_back(m.params());
  for (size_t k = 0; k < models.size(); ++k) {
    weighted.push_back({&params[k], models[k].weight});
    mass += models[k].weight;
  }
}

Result<double> MeanLoss(double sum, int done, uint64_t round) {
  if (done == 0) return 0.0;
  const double loss = sum / done;
  if (std::isfinite(loss)) return loss;
  return Status::Internal("training diverged (loss is not finite) in round " +
                          std::to_string(round) + "; lower --lr or --clip-grad-norm");
}

Result<double> LocalSteps(AlgorithmContext& ctx, uint64_t round, int steps) {
  double loss = 0;
  int done = 0;
  for (; done < steps && !ctx.stopping(); ++done) loss += ctx.trainer().Step();
  return MeanLoss(loss, done, round);
}

Result<double> RoundMergeAlgorithm::RunRound(AlgorithmContext& ctx, uint64_t round, int steps) {
  GV_ASSIGN_OR_RETURN(const double loss, LocalSteps(ctx, round, steps));
  if (ctx.stopping()) return loss;
  ctx.Publish(round, Channel::kModelGossip);
  auto models = ctx.Exchange(round);
  if (models.empty() || ctx.stopping()) return loss;
  Status st = Merge(ctx, models);
  if (!st.ok()) {
    ++merge_failures_;
    spdlog::warn("{} merge failed in round {}: {}; keeping the local model", name_, round,
                 st.message());
    return loss;
  }
  ctx.MarkMerged(models);  // dimat, wa, wm: the row's policy resets the optimizer
  return loss;
}

void AlignedMergeAlgorithm::Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) {
  if (initial != nullptr) {
    frame_ = initial->frame;
  } else {
    frame_ = ctx.shared_init() ? 0 : ctx.self();
  }
}

void AlignedMergeAlgorithm::OnNewIdentity(const std::vector<proto::NodeId>& lost,
                                          proto::NodeId now) {
  for (proto::NodeId id : lost) frame_ = core::FrameAfterRejoin(frame_, id, now);
}

std::vector<uint8_t> AlignedMergeAlgorithm::SaveState() const {
  ByteWriter w;
  w.U32(frame_);
  return w.Take();
}

Status AlignedMergeAlgorithm::LoadState(std::span<const uint8_t> state) {
  ByteReader r(state);
  const proto::NodeId frame = r.U32();
  if (!r.done()) return Status::Invalid(std::string(name_) + " state is not one frame id");
  frame_ = frame;
  return Status::Ok();
}

std::vector<Metric> AlignedMergeAlgorithm::Metrics() const {
  return {{"frame", static_cast<int64_t>(frame_)}};
}

namespace {
void LogMergeStats(std::string_view name, const merge::MergeResult& merged) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  std::string moved;
  for (double m : merged.stats.moved) moved += fmt::format(" {:.2f}", m);
  std::string scores;  // mean matched correlation (dimat) / cosine (wm) per group
  for (const auto& per_group : merged.stats.match_scores) {
    scores += " [";
    for (double sc : per_group) scores += fmt::format(" {:.2f}", sc);
    scores += " ]";
  }
  std::string repair;
  for (double s : merged.stats.repair_scale) repair += fmt::format(" {:.2f}", s);
  spdlog::debug("{} merge: fraction of units moved per neighbour:{}, match scores:{}, "
                "REPAIR scale per group:{} ({:.1f} ms)",
                name, moved, scores, repair.empty() ? " -" : repair, 1e3 * merged.stats.seconds);
}
}  // namespace

Status AlignedMergeAlgorithm::Merge(AlgorithmContext& ctx,
                                    const std::vector<ArrivedModel>& models) {
  learn::Trainer& t = ctx.trainer();
  Neighbours n(models);
  // A neighbour whose model is in our frame is merged with the identity alignment;
  // the others are matched.
  std::vector<merge::NeighbourModel> nm;
  for (size_t k = 0; k < models.size(); ++k) {
    const proto::NodeId theirs = models[k].model->frame;
    nm.push_back({n.weighted[k].x, n.weighted[k].weight,
                  theirs != proto::kNoNode && theirs == frame_});
  }
  // Rounding: the arrived weights may sum to a hair above 1 − self.
  const double self_weight = std::max(0.0, 1.0 - n.mass);
  Result<merge::MergeResult> merged = AlignedMerge(ctx, t.params(), self_weight, nm);
  if (!merged.ok()) return merged.status();
  LogMergeStats(name_, *merged);
  t.mutable_params() = std::move(merged->params);
  AdoptLowestFrame(ctx, models, *merged);
  return Status::Ok();
}

void AlignedMergeAlgorithm::AdoptLowestFrame(AlgorithmContext& ctx,
                                             const std::vector<ArrivedModel>& models,
                                             const merge::MergeResult& merged) {
  proto::NodeId best = frame_;
  size_t from = models.size();
  for (size_t k = 0; k < models.size(); ++k) {
    const proto::NodeId f = models[k].model->frame;
    if (f != proto::kNoNode && models[k].weight > 0 && (best == proto::kNoNode || f < best)) {
      best = f;
      from = k;
    }
  }
  if (from == models.size()) return;
  learn::Trainer& t = ctx.trainer();
  t.mutable_params() =
      merge::PermuteToSelf(t.model().layout(), t.model().symmetry(), t.params(),
                           merge::InvertAlignment(merged.alignments[from]));
  frame_ = best;
}

}  // namespace grapevine::agent::algorithms
