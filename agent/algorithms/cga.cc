// cga (ALGORITHMS.md §4), per step: self-gradient g_ii on the next batch; publish x_i on
// the cross-gradient request channel, asking the neighbours for ∇ℓ(x_i; ξ_j); wait for
// their models and answers while answering theirs (two agents waiting for each other's
// answers cannot deadlock); per tensor g̃ = w_ii g_ii + Σ v_j w_ij g_ij with the QP's
// v ≥ 0.5; x ← Σ_j w_ij x_j, then the optimizer step with g̃ from that consensus point
// (with --nesterov this is the paper's Nesterov update). Neighbours whose answer did not
// come within the deadline or the staleness bound are left out of M for this step; a
// failed aggregation falls back to the plain self-gradient and is counted.
//
// State owned here: the freshest cross-gradient of our model per neighbour, and the
// count of answers we computed for the neighbours.
#include <spdlog/spdlog.h>

#include <map>

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"
#include "merge/cga.h"

namespace grapevine::agent::algorithms {

namespace {

class Cga : public Algorithm {
 public:
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override;
  void Serve(AlgorithmContext& ctx) override {
    Answer(ctx);
    ctx.Take(Channel::kCrossGradientReply);  // answers that came too late
  }
  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    cross_.clear();
    asked_.reset();  // asked of the old neighbours
  }
  void OnPeerReplaced(proto::NodeId id) override { cross_.erase(id); }
  std::vector<Metric> Metrics() const override {
    return {{"gradients_answered", static_cast<int64_t>(answered_)}};
  }

 private:
  void Answer(AlgorithmContext& ctx);
  void Collect(AlgorithmContext& ctx);
  bool Answered(proto::NodeId id) const {
    auto it = cross_.find(id);
    return !asked_ || (it != cross_.end() && it->second->version >= *asked_);
  }
  void Aggregate(AlgorithmContext& ctx, uint64_t round);

  std::unique_ptr<merge::CgaAggregator> aggregator_;
  std::map<proto::NodeId, std::shared_ptr<const proto::CrossGradient>> cross_;
  std::optional<uint64_t> asked_;  // the version of ours the neighbours were asked about
  uint64_t answered_ = 0;
  Eigen::VectorXf request_params_, request_grad_;  // scratch for answers
  std::vector<Eigen::VectorXf> rows_;
  Eigen::VectorXf combined_;
};

Result<double> Cga::RunRound(AlgorithmContext& ctx, uint64_t round, int steps) {
  learn::Trainer& t = ctx.trainer();
  if (!aggregator_) {
    aggregator_ = std::make_unique<merge::CgaAggregator>(merge::TensorRangesOf(t.model().layout()));
  }
  double loss = 0;
  int done = 0;
  for (; done < steps && !ctx.stopping(); ++done) {
    const uint64_t tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
    Answer(ctx);
    loss += t.ComputeGradient();
    asked_ = static_cast<uint64_t>(t.steps());  // the version the published model carries
    ctx.Publish(tick, Channel::kCrossGradientRequest);
    ctx.BeginExchange(tick);
    std::optional<std::vector<ArrivedModel>> models;
    while (!models) {
      Answer(ctx);  // neighbours may be waiting for us while we wait for them
      Collect(ctx);
      models = ctx.PollExchange(/*block=*/true, [this](proto::NodeId id) { return Answered(id); });
    }
    Collect(ctx);
    combined_ = t.gradient();
    Aggregate(ctx, round);
    Neighbours n(*models);
    MixInPlace(n.weighted, &t.mutable_params());
    ctx.MarkMerged(*models);
    t.ApplyGradient(combined_);
  }
  return MeanLoss(loss, done, round);
}

void Cga::Answer(AlgorithmContext& ctx) {
  for (const ChannelMessage& req : ctx.Take(Channel::kCrossGradientRequest)) {
    const proto::ModelPayload& model = *req.model;
    request_params_ = Eigen::Map<const Eigen::VectorXf>(
        model.values.data(), static_cast<Eigen::Index>(model.values.size()));
    ctx.trainer().GradientOnSample(request_params_, &request_grad_);
    proto::CrossGradient g;
    g.origin = model.origin;
    g.version = model.version;
    g.values.assign(request_grad_.data(), request_grad_.data() + request_grad_.size());
    const proto::NodeId to[] = {req.from};
    ctx.Send(Channel::kCrossGradientReply, to, std::move(g));
    ++answered_;
  }
}

void Cga::Collect(AlgorithmContext& ctx) {
  for (const ChannelMessage& m : ctx.Take(Channel::kCrossGradientReply)) {
    auto& slot = cross_[m.from];
    if (!slot || slot->version <= m.gradient->version) slot = m.gradient;
  }
}

// M = the fresh cross-gradients of this exchange's neighbours, with their w_ij.
void Cga::Aggregate(AlgorithmContext& ctx, uint64_t round) {
  const auto mixing = ctx.MixingRow();
  rows_.clear();
  std::vector<double> weights;
  std::vector<uint64_t> ids;
  for (const auto& [id, w] : mixing) {
    auto it = cross_.find(id);
    if (it == cross_.end() || !asked_) continue;
    if (it->second->version + ctx.staleness() < *asked_) continue;
    rows_.emplace_back(Eigen::Map<const Eigen::VectorXf>(
        it->second->values.data(), static_cast<Eigen::Index>(it->second->values.size())));
    weights.push_back(w);
    ids.push_back(id);
  }
  // Forget neighbours that left, so a returning id starts fresh.
  std::erase_if(cross_, [&](const auto& kv) {
    for (const auto& [id, w] : mixing) {
      if (id == kv.first) return false;
    }
    return true;
  });
  if (rows_.empty()) return;
  std::vector<const Eigen::VectorXf*> rows;
  for (const auto& r : rows_) rows.push_back(&r);
  learn::Trainer& t = ctx.trainer();
  auto stats = aggregator_->Aggregate(t.gradient(), ctx.SelfWeight(), rows, weights, ids, &combined_);
  if (!stats.ok()) {
    ++merge_failures_;
    spdlog::warn("cga aggregation failed in round {}: {}; using the own gradient", round,
                 stats.status().message());
    combined_ = t.gradient();
  }
}

}  // namespace

std::unique_ptr<Algorithm> MakeCga(const OptionValues&) { return std::make_unique<Cga>(); }

}  // namespace grapevine::agent::algorithms
