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
//
// CompCGA (`--compress q8|q4|sign`, ALGORITHMS.md §4): nothing travels in full
// precision. Models go as CHOCO public copies (public_copies.h: q = Q(x − x̂_i), error
// feedback implicit in x − x̂_i); a neighbour computes our cross-gradient at the copy
// x̂_i it holds — a compressed update of ours is also the request — and answers
// C(g + e) with an error memory e per (asker, tensor): e ← g + e − C(g + e), so what
// one answer dropped is sent with the next. Consensus mixes the copies,
// x̄_i = x_i + Σ_j w_ij (x̂_j − x̂_i) (the average the neighbours can see, step 1).
#include <spdlog/spdlog.h>

#include <array>
#include <map>
#include <optional>

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/public_copies.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"
#include "merge/cga.h"

namespace grapevine::agent::algorithms {

namespace {

constexpr std::array<OptionSpec, 1> kCgaOptions = {kStepOneCompressOption};

class Cga : public Algorithm {
 public:
  explicit Cga(const OptionValues& o) {
    const merge::CodecSpec codec = *merge::ParseCodec(o.String("compress"));
    if (codec.kind != merge::CodecKind::kNone) copies_.emplace(codec);
  }
  ChannelSet Channels(ChannelSet row) const override {
    if (!copies_) return row.Without(Channel::kCompressedGossip);
    return row.Without(Channel::kModelGossip).Without(Channel::kCrossGradientRequest);
  }
  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    Algorithm::Start(ctx, initial);
    if (!copies_) return;
    copies_->Start(ctx, initial);
    spdlog::info("cga: CompCGA, codec {} for models (public copies) and cross-gradients "
                 "(error memory per neighbour)",
                 copies_->codec().ToString());
  }
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override;
  void Serve(AlgorithmContext& ctx) override {
    if (copies_) copies_->Absorb(ctx);
    Answer(ctx);
    ctx.Take(Channel::kCrossGradientReply);  // answers that came too late
  }
  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    cross_.clear();
    asked_.reset();  // asked of the old neighbours
    errors_.clear();
    answered_at_.clear();
    if (copies_) copies_->ForgetAll();
  }
  void OnPeerReplaced(proto::NodeId id) override {
    cross_.erase(id);
    errors_.erase(id);
    answered_at_.erase(id);
    if (copies_) copies_->ForgetPeer(id);
  }
  std::vector<Metric> Metrics() const override {
    std::vector<Metric> out = {{"gradients_answered", static_cast<int64_t>(answered_)}};
    if (copies_) {
      out.push_back({"updates_rejected", static_cast<int64_t>(copies_->rejected() + rejected_)});
      out.push_back({"resyncs", static_cast<int64_t>(copies_->resyncs())});
    }
    return out;
  }

 private:
  // CompCGA: a step with compressed models and answers.
  double CompressedStep(AlgorithmContext& ctx, uint64_t round, uint64_t tick);
  void AnswerCopies(AlgorithmContext& ctx);
  void CollectCompressed(AlgorithmContext& ctx);

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

  // CompCGA only.
  std::optional<PublicCopies> copies_;
  std::map<proto::NodeId, Eigen::VectorXf> errors_;   // e per asker (all tensors)
  std::map<proto::NodeId, uint64_t> answered_at_;     // tick of its copy we last answered
  std::map<proto::NodeId, Eigen::VectorXf> decoded_cross_;  // decoded answers, by sender
  Eigen::VectorXf p_, cp_;
  uint64_t rejected_ = 0;  // answers that failed to decode
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
    if (copies_) {
      loss += CompressedStep(ctx, round, tick);
      if (done + 1 == steps || ctx.stopping()) ctx.PublishForStatus(tick);
      continue;
    }
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

double Cga::CompressedStep(AlgorithmContext& ctx, uint64_t round, uint64_t tick) {
  learn::Trainer& t = ctx.trainer();
  AnswerCopies(ctx);
  const double loss = t.ComputeGradient();
  asked_ = tick;  // our copy of this tick is what the neighbours answer about
  copies_->Gossip(
      ctx, tick, [this](proto::NodeId id) { return Answered(id); },
      [&] {
        AnswerCopies(ctx);
        CollectCompressed(ctx);
      });
  CollectCompressed(ctx);
  combined_ = t.gradient();
  Aggregate(ctx, round);
  copies_->Consensus(ctx, 1.0, &t.mutable_params());
  ctx.MarkMerged({});
  t.ApplyGradient(combined_);
  return loss;
}

// For every in-neighbour whose copy advanced since our last answer: its gradient on our
// data at that copy, sent as C(g + e).
void Cga::AnswerCopies(AlgorithmContext& ctx) {
  const merge::CodecSpec& codec = copies_->codec();
  for (proto::NodeId id : ctx.InNeighbours()) {
    auto copy = copies_->CopyOf(id);
    if (!copy) continue;
    auto at = answered_at_.find(id);
    if (at != answered_at_.end() && at->second >= copy->tick) continue;
    answered_at_[id] = copy->tick;
    ctx.trainer().GradientOnSample(*copy->hat, &request_grad_);
    Eigen::VectorXf& e = errors_[id];
    if (e.size() != request_grad_.size()) e = Eigen::VectorXf::Zero(request_grad_.size());
    p_ = request_grad_ + e;
    const uint64_t seed = copies_->seed() ^ (0xD1B54A32D192ED03ull * (uint64_t{id} + 1));
    proto::CrossGradient g;
    g.origin = id;
    g.version = copy->tick;
    g.codec = WireCodec(codec.kind);
    g.codec_param = static_cast<float>(codec.fraction);
    g.codec_seed = seed;
    g.packed = EncodeAndReadBack(codec, SpanOf(p_), copies_->tensor_sizes(), seed, copy->tick, &cp_);
    e = p_ - cp_;
    const proto::NodeId to[] = {id};
    ctx.Send(Channel::kCrossGradientReply, to, std::move(g));
    ++answered_;
  }
}

// Decodes the answers that came into dense cross-gradients (version = our tick).
void Cga::CollectCompressed(AlgorithmContext& ctx) {
  for (const ChannelMessage& m : ctx.Take(Channel::kCrossGradientReply)) {
    const proto::CrossGradient& g = *m.gradient;
    auto& slot = cross_[m.from];
    if (slot && slot->version > g.version) continue;
    auto spec = CodecFromWire(g.codec, g.codec_param);
    Eigen::VectorXf& out = decoded_cross_[m.from];
    out.resize(ctx.trainer().params().size());
    Status st = spec.ok() ? merge::DecodeModel(*spec, g.packed, copies_->tensor_sizes(),
                                               g.codec_seed, g.version, MutableSpanOf(out),
                                               /*accumulate=*/false)
                          : spec.status();
    if (st.ok() && !out.allFinite()) st = Status::Invalid("decodes to NaN or Inf");
    if (!st.ok()) {
      ++rejected_;
      spdlog::warn("rejected compressed cross-gradient from node {} (tick {}): {}", m.from,
                   g.version, st.message());
      continue;
    }
    auto dense = std::make_shared<proto::CrossGradient>();
    dense->origin = g.origin;
    dense->version = g.version;
    dense->values.assign(out.data(), out.data() + out.size());
    slot = std::move(dense);
  }
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

std::span<const OptionSpec> CgaOptions() { return kCgaOptions; }

std::unique_ptr<Algorithm> MakeCga(const OptionValues& options) {
  return std::make_unique<Cga>(options);
}

}  // namespace grapevine::agent::algorithms
