// dpsgd (ALGORITHMS.md §2), adapt then combine, per step: step, publish, average:
// x_i ← Σ_j w_ij (x_j − η g_j). The optimizer keeps its state (row: keep); momentum
// buffers travel with the local model.
//
// `--compress q8|q4|sign`: compressed differences with error feedback (DCD-PSGD's
// scheme with CHOCO's public copies, public_copies.h): each step sends q = Q(x − x̂_i)
// instead of x and mixes the public copies, x ← x + Σ_j w_ij (x̂_j − x̂_i) — the D-PSGD
// average of what the neighbours can see, i.e. CHOCO with the consensus step fixed at 1.
// Codecs that keep a small fraction (topk, randk) need a smaller, tuned step and are
// `--algo choco`'s; they are rejected here.
#include <spdlog/spdlog.h>

#include <array>
#include <optional>

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/public_copies.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {

constexpr std::array<OptionSpec, 1> kDpsgdOptions = {kStepOneCompressOption};

class Dpsgd : public Algorithm {
 public:
  explicit Dpsgd(const OptionValues& o) {
    const merge::CodecSpec codec = *merge::ParseCodec(o.String("compress"));
    if (codec.kind != merge::CodecKind::kNone) copies_.emplace(codec);
  }

  ChannelSet Channels(ChannelSet row) const override {
    return copies_ ? row.Without(Channel::kModelGossip) : row.Without(Channel::kCompressedGossip);
  }

  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    Algorithm::Start(ctx, initial);
    if (!copies_) return;
    copies_->Start(ctx, initial);
    spdlog::info("dpsgd: compressed differences with codec {} (public copies, consensus step 1)",
                 copies_->codec().ToString());
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    uint64_t tick = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      loss += t.Step();
      if (copies_) {
        copies_->Gossip(ctx, tick);
        copies_->Consensus(ctx, 1.0, &t.mutable_params());
        ctx.MarkMerged({});
        continue;
      }
      ctx.Publish(tick, Channel::kModelGossip);
      auto models = ctx.Exchange(tick);
      Neighbours n(models);
      MixInPlace(n.weighted, &t.mutable_params());
      ctx.MarkMerged(models);
    }
    // Compressed: the model status readers and joiners get, once a round.
    if (copies_) ctx.PublishForStatus(tick);
    return MeanLoss(loss, done, round);
  }

  void Serve(AlgorithmContext& ctx) override {
    if (copies_) copies_->Absorb(ctx);
  }
  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    if (copies_) copies_->ForgetAll();
  }
  void OnPeerReplaced(proto::NodeId id) override {
    if (copies_) copies_->ForgetPeer(id);
  }
  std::vector<Metric> Metrics() const override {
    if (!copies_) return {};
    return {{"updates_rejected", static_cast<int64_t>(copies_->rejected())},
            {"resyncs", static_cast<int64_t>(copies_->resyncs())}};
  }

 private:
  std::optional<PublicCopies> copies_;
};

}  // namespace

std::span<const OptionSpec> DpsgdOptions() { return kDpsgdOptions; }

std::unique_ptr<Algorithm> MakeDpsgd(const OptionValues& options) {
  return std::make_unique<Dpsgd>(options);
}

}  // namespace grapevine::agent::algorithms
