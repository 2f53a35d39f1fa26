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
// The push-sum arithmetic is agent/core/algorithms/push_sum.h; this file moves shares.
#include <array>
#include <cmath>
#include <map>
#include <optional>

#include <spdlog/spdlog.h>

#include "agent/core/algorithms/push_sum.h"
#include "base/bytes.h"

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {

constexpr std::array<OptionSpec, 1> kSgpOptions = {{
    {"push-every", "optimizer steps between push-sum gossips (0 = once a round)", "0", "INT",
     NonNegativeInteger},
}};

class Sgp : public Algorithm {
 public:
  explicit Sgp(const OptionValues& o) : push_every_(o.Int("push-every")) {}

  void Start(AlgorithmContext& ctx, const proto::ModelPayload*) override {
    state_.emplace(ctx.trainer().params());  // a joiner's state transfer is a de-biased z
  }

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    const int64_t every = push_every_ > 0 ? push_every_ : steps;
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      before_ = t.params();  // z
      loss += t.Step();
      state_->AddToNumerator(t.params() - before_);  // the update computed at z
      state_->DebiasedInto(&t.mutable_params());
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
  // Checkpoints: f64 push weight, then the numerator as a float array.
  std::vector<uint8_t> SaveState() const override {
    ByteWriter w;
    if (!state_) return {};
    w.F64(state_->weight());
    w.Floats({state_->numerator().data(), static_cast<size_t>(state_->numerator().size())});
    w.I64(since_push_);
    return w.Take();
  }
  Status LoadState(std::span<const uint8_t> blob) override {
    ByteReader r(blob);
    const double w = r.F64();
    std::vector<float> x = r.Floats();
    const int64_t since = r.I64();
    if (!r.done() || !(w > 0 && std::isfinite(w)) || !state_ ||
        x.size() != static_cast<size_t>(state_->numerator().size())) {
      return Status::Invalid("sgp state is malformed or for another model size");
    }
    state_.emplace(Eigen::Map<const Eigen::VectorXf>(x.data(), static_cast<Eigen::Index>(x.size())),
                   w);
    since_push_ = since;
    return Status::Ok();
  }
  std::vector<Metric> Metrics() const override {
    if (!state_) return {};
    return {{"push_weight", state_->weight()}};
  }

 private:
  void Push(AlgorithmContext& ctx, uint64_t tick) {
    const std::vector<proto::NodeId> out = ctx.OutNeighbours();
    if (!out.empty()) {
      const PushSumShare share = state_->Share(static_cast<int>(out.size()));
      proto::ModelPayload payload;
      payload.round = tick;
      payload.values.assign(share.numerator.data(),
                            share.numerator.data() + share.numerator.size());
      payload.push_weight = share.weight;
      const size_t delivered = ctx.Send(Channel::kPushShare, out, std::move(payload)).size();
      // A share no neighbour took stays here, so no mass is lost.
      for (size_t k = delivered; k < out.size(); ++k) state_->AddBack(share);
    }
    ctx.BeginExchange(tick);
    const auto arrived = [&](proto::NodeId id) {
      auto it = last_tick_.find(id);
      return it != last_tick_.end() && it->second >= tick;
    };
    while (!ctx.PollExchange(/*block=*/true, arrived)) Absorb(ctx);
    Absorb(ctx);
    state_->DebiasedInto(&ctx.trainer().mutable_params());
    ctx.MarkMerged({});
    ctx.PublishForStatus(tick);
  }

  // Sums every share that arrived (validated by the context: size, hash, finite, w > 0).
  void Absorb(AlgorithmContext& ctx) {
    for (const ChannelMessage& m : ctx.Take(Channel::kPushShare)) {
      const proto::ModelPayload& s = *m.model;
      const Status added = state_->Receive(
          Eigen::Map<const Eigen::VectorXf>(s.values.data(),
                                            static_cast<Eigen::Index>(s.values.size())),
          s.push_weight);
      if (!added.ok()) {
        spdlog::warn("dropped push-sum share from node {}: {}", m.from, added.message());
        continue;
      }
      uint64_t& last = last_tick_[m.from];
      last = std::max(last, s.round);
    }
  }

  int64_t push_every_;
  int64_t since_push_ = 0;
  std::optional<PushSum> state_;  // numerator x and push-sum weight w
  Eigen::VectorXf before_;
  std::map<proto::NodeId, uint64_t> last_tick_;  // newest push tick summed per in-neighbour
};

}  // namespace

std::span<const OptionSpec> SgpOptions() { return kSgpOptions; }

std::unique_ptr<Algorithm> MakeSgp(const OptionValues& options) {
  return std::make_unique<Sgp>(options);
}

}  // namespace grapevine::agent::algorithms
