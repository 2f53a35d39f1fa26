// sgp — Stochastic Gradient Push (Assran, Loizou, Ballas, Rabbat, ICML 2019;
// ALGORITHMS.md §9): push-sum gossip, which needs no symmetric mixing weights and so
// also runs on a directed topology (`digraph`).
//
// State owned here: the numerator x and the push-sum weight w (starts at 1). The
// trainer always holds the de-biased model z = x / w: local steps take their gradient
// at z, the resulting update is applied to the numerator (x ← x + Δ), and z is what the
// agent evaluates and publishes for status and joiners. Every `--push-every` steps
// (0 = once a round), with d live out-neighbours:
//   keep the share (x, w)/(d+1) and send the same share to every out-neighbour on the
//   kPushShare channel; a share the context could not hand to a neighbour (dead, not
//   connected at send time) is added back, so no mass is lost;
//   sum every share that arrives (x += x_j, w += w_j), waiting for the live
//   in-neighbours' shares of this push up to the adaptive deadline; a share that comes
//   later is summed at the next push (the mailbox keeps every share on this channel).
// Invariant (tests/agent/algorithms): over the swarm, Σ w + the weights in flight = n.
#include <array>
#include <map>

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {

constexpr std::array<OptionSpec, 1> kOptions = {{
    {"push-every", "optimizer steps between push-sum gossips (0 = once a round)", "0", "INT",
     NonNegativeInteger},
}};

class Sgp : public Algorithm {
 public:
  explicit Sgp(const OptionValues& o) : push_every_(o.Int("push-every")) {}

  void Start(AlgorithmContext& ctx, const proto::ModelPayload*) override {
    x_ = ctx.trainer().params();  // a joiner's state transfer is a de-biased z
    w_ = 1.0;
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    const int64_t every = push_every_ > 0 ? push_every_ : steps;
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      before_ = t.params();  // z
      loss += t.Step();
      x_ += t.params() - before_;  // the update computed at z goes to the numerator
      t.mutable_params() = x_ / static_cast<float>(w_);
      if (++since_push_ >= every) {
        since_push_ = 0;
        Push(ctx, round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done));
      }
    }
    return MeanLoss(loss, done, round);
  }

  void Serve(AlgorithmContext& ctx) override { Absorb(ctx); }
  void OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) override {
    last_tick_.clear();
  }
  void OnPeerReplaced(proto::NodeId id) override { last_tick_.erase(id); }
  std::vector<Metric> Metrics() const override { return {{"push_weight", w_}}; }

 private:
  void Push(AlgorithmContext& ctx, uint64_t tick) {
    const std::vector<proto::NodeId> out = ctx.OutNeighbours();
    const double keep = 1.0 / static_cast<double>(out.size() + 1);
    x_ *= static_cast<float>(keep);
    w_ *= keep;
    if (!out.empty()) {
      proto::ModelPayload share;
      share.round = tick;
      share.values.assign(x_.data(), x_.data() + x_.size());
      share.push_weight = w_;
      const size_t delivered = ctx.Send(Channel::kPushShare, out, std::move(share)).size();
      // Undelivered shares stay here: x_, w_ hold exactly one share now.
      const double own = static_cast<double>(1 + out.size() - delivered);
      x_ *= static_cast<float>(own);
      w_ *= own;
    }
    ctx.BeginExchange(tick);
    const auto arrived = [&](proto::NodeId id) {
      auto it = last_tick_.find(id);
      return it != last_tick_.end() && it->second >= tick;
    };
    while (!ctx.PollExchange(/*block=*/true, arrived)) Absorb(ctx);
    Absorb(ctx);
    ctx.trainer().mutable_params() = x_ / static_cast<float>(w_);
    ctx.MarkMerged({});
    ctx.PublishForStatus(tick);
  }

  // Sums every share that arrived (validated by the context: size, hash, finite, w > 0).
  void Absorb(AlgorithmContext& ctx) {
    for (const ChannelMessage& m : ctx.Take(Channel::kPushShare)) {
      const proto::ModelPayload& s = *m.model;
      x_ += Eigen::Map<const Eigen::VectorXf>(s.values.data(),
                                              static_cast<Eigen::Index>(s.values.size()));
      w_ += s.push_weight;
      uint64_t& last = last_tick_[m.from];
      last = std::max(last, s.round);
    }
  }

  int64_t push_every_;
  int64_t since_push_ = 0;
  Eigen::VectorXf x_;  // numerator
  double w_ = 1.0;     // push-sum weight
  Eigen::VectorXf before_;
  std::map<proto::NodeId, uint64_t> last_tick_;  // newest push tick summed per in-neighbour
};

}  // namespace

std::span<const OptionSpec> SgpOptions() { return kOptions; }

std::unique_ptr<Algorithm> MakeSgp(const OptionValues& options) {
  return std::make_unique<Sgp>(options);
}

}  // namespace grapevine::agent::algorithms
