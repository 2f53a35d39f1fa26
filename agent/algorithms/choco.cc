// choco — CHOCO-SGD (Koloskova, Stich, Jaggi, ICML 2019; ALGORITHMS.md §5): gossip of
// compressed differences with error feedback; with `--optimizer adam` it is the
// decentralized Efficient-Adam (Chen et al., TSP 2023): the post-Adam update is what
// gets compressed (it is in x), Adam's moments never leave the agent.
//
// State owned here: the public copies (public_copies.h: x̂_i and our exact copy of each
// in-neighbour's x̂_j, kept exact under churn by snapshots). Every gossip tick
// (`--choco-every` optimizer steps, 0 = once a round): q = Q(x − x̂_i) goes to the
// out-neighbours, the in-neighbours' q_j update our copies, then the consensus
// x += γ Σ_j w_ij (x̂_j − x̂_i) with the exchange's Metropolis row. Error feedback is
// implicit: what Q did not send stays in x − x̂_i and is sent later.
//
// γ: `--choco-gamma`, or tuned at start (choco_gamma.h) on the live graph and codec.
#include <spdlog/spdlog.h>

#include <array>

#include "agent/algorithms/choco_gamma.h"
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/public_copies.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {

constexpr std::array<OptionSpec, 3> kChocoOptions = {{
    {"compress", "codec of the gossiped differences: none|q8|q4|sign|topk:F|randk:F",
     "sign", "CODEC", CheckCodecOption},
    {"choco-every", "optimizer steps between compressed gossips (0 = once a round)", "1", "INT",
     NonNegativeInteger},
    kChocoGammaOption,
}};

class Choco : public Algorithm {
 public:
  explicit Choco(const OptionValues& o)
      : copies_(*merge::ParseCodec(o.String("compress"))),
        every_(o.Int("choco-every")),
        gamma_option_(o.Double("choco-gamma")) {}

  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    copies_.Start(ctx, initial);
    const merge::CodecSpec& codec = copies_.codec();
    if (gamma_option_ > 0) {
      gamma_ = gamma_option_;
      spdlog::info("choco: codec {}, consensus step gamma {:.4g} (--choco-gamma)",
                   codec.ToString(), gamma_);
    } else {
      const GammaTuning tuned = TuneChocoGamma(ctx.LiveEdges(), ctx.self(), codec, /*seed=*/1);
      gamma_ = tuned.gamma;
      spdlog::info(
          "choco: codec {}, consensus step gamma {:.4g} (tuned: {} agents, {} dims, error "
          "{:.3g}; --choco-gamma overrides)",
          codec.ToString(), gamma_, tuned.nodes, tuned.dims, tuned.error);
    }
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    const int64_t every = every_ > 0 ? every_ : steps;
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      loss += t.Step();
      if (++since_gossip_ >= every) {
        since_gossip_ = 0;
        tick_ = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
        copies_.Gossip(ctx, tick_);
        copies_.Consensus(ctx, gamma_, &t.mutable_params());
        ctx.MarkMerged({});
      }
    }
    // The model status readers and joiners get: once a round, not every tick (an encode
    // of the whole model per optimizer step would be most of a tick's cost with sign).
    ctx.PublishForStatus(tick_);
    return MeanLoss(loss, done, round);
  }

  void Serve(AlgorithmContext& ctx) override { copies_.Absorb(ctx); }
  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    copies_.ForgetAll();
  }
  void OnPeerReplaced(proto::NodeId id) override { copies_.ForgetPeer(id); }
  std::vector<Metric> Metrics() const override {
    return {{"consensus_gamma", gamma_},
            {"updates_rejected", static_cast<int64_t>(copies_.rejected())},
            {"resyncs", static_cast<int64_t>(copies_.resyncs())}};
  }

 private:
  PublicCopies copies_;
  int64_t every_;
  double gamma_option_;
  double gamma_ = 1.0;
  int64_t since_gossip_ = 0;
  uint64_t tick_ = 0;
};

}  // namespace

std::span<const OptionSpec> ChocoOptions() { return kChocoOptions; }

std::unique_ptr<Algorithm> MakeChoco(const OptionValues& options) {
  return std::make_unique<Choco>(options);
}

}  // namespace grapevine::agent::algorithms
