// The algorithm families of algorithm.h. The math lives in merge/ and
// agent/core/algorithms/consensus.h; this file only schedules steps and exchanges.
#include "agent/algorithm.h"

#include <spdlog/spdlog.h>

#include <cmath>
#include <string>

#include "agent/core/algorithms/consensus.h"
#include "learn/trainer.h"
#include "merge/aligned_merge.h"
#include "merge/cga.h"
#include "merge/dimat.h"
#include "merge/weight_matching.h"

namespace grapevine::agent {

namespace {

using algorithms::WeightedVector;

// Copies the arrived vectors once (the views alias the payloads, which stay alive in
// `models`) and pairs them with their weights.
struct Neighbours {
  explicit Neighbours(const std::vector<ArrivedModel>& models) {
    params.reserve(models.size());
    for (const auto& m : models) params.emplace_back(m.params());
    for (size_t k = 0; k < models.size(); ++k) {
      weighted.push_back({&params[k], models[k].weight});
      mass += models[k].weight;
    }
  }
  std::vector<Eigen::VectorXf> params;
  std::vector<WeightedVector> weighted;
  double mass = 0;
};

Status CheckLoss(double loss, uint64_t round) {
  if (std::isfinite(loss)) return Status::Ok();
  return Status::Internal("training diverged (loss is not finite) in round " +
                          std::to_string(round) + "; lower --lr or --clip-grad-norm");
}

// dimat, wa, wm: E local steps, publish, wait for the neighbours' round, merge, reset.
class RoundMergeAlgorithm : public Algorithm {
 public:
  RoundMergeAlgorithm(std::string_view name, const AlgorithmOptions& options) : name_(name) {
    dimat_.weight_prior = options.dimat_weight_prior;
    dimat_.repair = options.dimat_repair;
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) loss += t.Step();
    if (done == 0) return 0.0;
    loss /= done;
    GV_RETURN_IF_ERROR(CheckLoss(loss, round));
    ctx.Publish(round);
    auto models = ctx.Exchange(round);
    if (models.empty() || ctx.stopping()) return loss;
    Status st = Merge(ctx, models);
    if (!st.ok()) {
      ++merge_failures_;
      spdlog::warn("{} merge failed in round {}: {}; keeping the local model", name_, round,
                   st.message());
      return loss;
    }
    ctx.MarkMerged(models);
    t.ResetOptimizer();  // DIMAT recreates the optimizer after every merge; wa/wm follow
    return loss;
  }

 private:
  Status Merge(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models) {
    learn::Trainer& t = ctx.trainer();
    Neighbours n(models);
    Eigen::VectorXf& x = t.mutable_params();
    if (name_ == "wa") {
      algorithms::MixInPlace(n.weighted, &x);
      return Status::Ok();
    }
    // Frames (docs/algorithms.md): a neighbour whose model is in our frame is merged
    // with the identity alignment; the others are matched.
    const proto::NodeId frame = ctx.frame();
    std::vector<merge::NeighbourModel> nm;
    for (size_t k = 0; k < models.size(); ++k) {
      const proto::NodeId theirs = models[k].model->frame;
      nm.push_back({n.weighted[k].x, n.weighted[k].weight,
                    theirs != proto::kNoNode && theirs == frame});
    }
    // Rounding: the arrived weights may sum to a hair above 1 − self.
    const double self_weight = std::max(0.0, 1.0 - n.mass);
    Result<merge::MergeResult> merged =
        name_ == "dimat"
            ? merge::DimatMerge(t.model(), x, self_weight, nm, ctx.probe(), dimat_)
            : merge::WeightMatchingMerge(t.model().layout(), t.model().symmetry(), x,
                                         self_weight, nm);
    if (!merged.ok()) return merged.status();
    if (spdlog::should_log(spdlog::level::debug)) {
      std::string moved;
      for (double m : merged->stats.moved) moved += fmt::format(" {:.2f}", m);
      std::string scores;  // mean matched correlation (dimat) / cosine (wm) per group
      for (const auto& per_group : merged->stats.match_scores) {
        scores += " [";
        for (double sc : per_group) scores += fmt::format(" {:.2f}", sc);
        scores += " ]";
      }
      std::string repair;
      for (double s : merged->stats.repair_scale) repair += fmt::format(" {:.2f}", s);
      spdlog::debug("{} merge: fraction of units moved per neighbour:{}, match scores:{}, "
                    "REPAIR scale per group:{} ({:.1f} ms)",
                    name_, moved, scores, repair.empty() ? " -" : repair,
                    1e3 * merged->stats.seconds);
    }
    x = std::move(merged->params);
    AdoptLowestFrame(ctx, models, *merged);
    return Status::Ok();
  }

  // The merged model takes the unit order of the neighbour with the lowest frame id
  // when that is below ours, so one frame spreads over the graph (diameter rounds)
  // and matching stops being needed between agents that share it.
  void AdoptLowestFrame(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models,
                        const merge::MergeResult& merged) {
    proto::NodeId best = ctx.frame();
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
    ctx.SetFrame(best);
  }

  std::string_view name_;
  merge::DimatOptions dimat_;
};

// dpsgd: step, publish, average (x_i ← Σ_j w_ij (x_j − η g_j)).
// cdsgd: publish x, step, x ← mix(x_before) + (x_after − x_before); publishing before
// the step overlaps the exchange with the gradient computation.
// The optimizer keeps its state (momentum buffers travel with the local model).
class PerStepAlgorithm : public Algorithm {
 public:
  explicit PerStepAlgorithm(bool combine_first) : combine_first_(combine_first) {}

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      const uint64_t tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      if (combine_first_) {
        before_ = t.params();
        ctx.Publish(tick);
        loss += t.Step();
        auto models = ctx.Exchange(tick);
        Neighbours n(models);
        algorithms::CombineThenAdapt(before_, n.weighted, &t.mutable_params());
        ctx.MarkMerged(models);
      } else {
        loss += t.Step();
        ctx.Publish(tick);
        auto models = ctx.Exchange(tick);
        Neighbours n(models);
        algorithms::MixInPlace(n.weighted, &t.mutable_params());
        ctx.MarkMerged(models);
      }
    }
    if (done == 0) return 0.0;
    loss /= done;
    GV_RETURN_IF_ERROR(CheckLoss(loss, round));
    return loss;
  }

 private:
  bool combine_first_;
  Eigen::VectorXf before_;
};

// cga (ALGORITHMS.md §4), per step: self-gradient g_ii on the next batch; publish x_i
// asking the neighbours for ∇ℓ(x_i; ξ_j); wait for their models and answers (while
// answering theirs); per tensor g̃ = w_ii g_ii + Σ v_j w_ij g_ij with the QP's v ≥ 0.5;
// x ← Σ_j w_ij x_j, then the optimizer step with g̃ from that consensus point (with
// --nesterov this is the paper's Nesterov update). Neighbours whose answer did not
// come within the deadline or staleness bound are left out of M for this step; a
// failed aggregation falls back to the plain self-gradient and is counted.
class CgaAlgorithm : public Algorithm {
 public:
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    if (!aggregator_) {
      aggregator_ = std::make_unique<merge::CgaAggregator>(
          merge::TensorRangesOf(t.model().layout()));
    }
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      const uint64_t tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      ctx.AnswerCrossGradients();
      loss += t.ComputeGradient();
      ctx.PublishForCrossGradients(tick);
      auto models = ctx.Exchange(tick);
      auto gradients = ctx.TakeCrossGradients();
      combined_ = t.gradient();
      if (!gradients.empty()) Aggregate(t, ctx.SelfWeight(), gradients, round);
      Neighbours n(models);
      algorithms::MixInPlace(n.weighted, &t.mutable_params());
      ctx.MarkMerged(models);
      t.ApplyGradient(combined_);
    }
    if (done == 0) return 0.0;
    loss /= done;
    GV_RETURN_IF_ERROR(CheckLoss(loss, round));
    return loss;
  }

 private:
  void Aggregate(learn::Trainer& t, double self_weight,
                 const std::vector<ArrivedGradient>& gradients, uint64_t round) {
    cross_.clear();
    std::vector<const Eigen::VectorXf*> rows;
    std::vector<double> weights;
    std::vector<uint64_t> ids;
    cross_.reserve(gradients.size());
    for (const auto& g : gradients) {
      cross_.emplace_back(g.values());
      weights.push_back(g.weight);
      ids.push_back(g.from);
    }
    for (const auto& c : cross_) rows.push_back(&c);
    auto stats = aggregator_->Aggregate(t.gradient(), self_weight, rows, weights, ids, &combined_);
    if (!stats.ok()) {
      ++merge_failures_;
      spdlog::warn("cga aggregation failed in round {}: {}; using the own gradient", round,
                   stats.status().message());
      combined_ = t.gradient();
    }
  }

  std::unique_ptr<merge::CgaAggregator> aggregator_;
  std::vector<Eigen::VectorXf> cross_;
  Eigen::VectorXf combined_;
};

// lasgd: does not wait for an exchange. Every merge_every steps it publishes a
// snapshot s and keeps stepping; the step after the exchange completes,
// x ← x + Σ_j w_j (x_j^snapshot − s). The in-flight exchange survives round ends. At
// most one exchange is in flight: when the next is due and the previous one is still
// open, the agent waits for it (bounded by its deadline) — the staleness bound.
class LasgdAlgorithm : public Algorithm {
 public:
  explicit LasgdAlgorithm(int merge_every) : merge_every_(merge_every) {}

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    const int every = merge_every_ > 0 ? merge_every_ : steps;
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      loss += t.Step();
      ++since_exchange_;
      if (in_flight_) {
        auto models = ctx.PollExchange(/*block=*/false);
        if (models) ApplyExchange(ctx, *models);
      }
      if (in_flight_ && since_exchange_ >= every) {
        // Bounded asynchrony: at most one exchange in flight. If the previous one has
        // not completed when the next is due, wait for it (its deadline bounds this).
        ApplyExchange(ctx, ctx.PollUntilDone());
      }
      if (!in_flight_ && since_exchange_ >= every) {
        snapshot_ = t.params();
        ctx.Publish(tick_);
        ctx.BeginExchange(tick_);
        ++tick_;
        in_flight_ = true;
        since_exchange_ = 0;
      }
    }
    if (done == 0) return 0.0;
    loss /= done;
    GV_RETURN_IF_ERROR(CheckLoss(loss, round));
    return loss;
  }

 private:
  void ApplyExchange(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models) {
    Neighbours n(models);
    algorithms::DeltaAdd(snapshot_, n.weighted, &ctx.trainer().mutable_params());
    ctx.MarkMerged(models);
    in_flight_ = false;
  }

  int merge_every_;
  int since_exchange_ = 0;
  bool in_flight_ = false;
  uint64_t tick_ = 0;
  Eigen::VectorXf snapshot_;
};

class LocalAlgorithm : public Algorithm {
 public:
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) loss += ctx.trainer().Step();
    if (done == 0) return 0.0;
    loss /= done;
    GV_RETURN_IF_ERROR(CheckLoss(loss, round));
    return loss;
  }
};

}  // namespace

std::vector<ArrivedModel> AlgorithmContext::Exchange(uint64_t tick) {
  BeginExchange(tick);
  return PollUntilDone();
}

std::vector<ArrivedModel> AlgorithmContext::PollUntilDone() {
  while (true) {
    auto models = PollExchange(/*block=*/true);
    if (models) return std::move(*models);
  }
}

std::unique_ptr<Algorithm> MakeAlgorithm(const algorithms::AlgoSpec& spec,
                                         const AlgorithmOptions& options) {
  using algorithms::Family;
  switch (spec.family) {
    case Family::kRoundMerge:
      return std::make_unique<RoundMergeAlgorithm>(spec.name, options);
    case Family::kPerStep:
      return std::make_unique<PerStepAlgorithm>(spec.name == "cdsgd");
    case Family::kCrossGradient:
      return std::make_unique<CgaAlgorithm>();
    case Family::kLocalAsync:
      return std::make_unique<LasgdAlgorithm>(options.merge_every);
    case Family::kLocal:
      return std::make_unique<LocalAlgorithm>();
  }
  return nullptr;
}

}  // namespace grapevine::agent
