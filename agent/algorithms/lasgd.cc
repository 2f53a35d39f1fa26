// lasgd (ALGORITHMS.md §3): does not wait for an exchange. Every --merge-every steps it
// publishes a snapshot s and keeps stepping; the step after the exchange completes,
// x ← x + Σ_j w_j (x_j^snapshot − s). The in-flight exchange survives round ends. At
// most one exchange is in flight: when the next is due and the previous one is still
// open, the agent waits for it (bounded by its deadline) — the staleness bound.
#include <array>

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {

constexpr std::array<OptionSpec, 1> kLasgdOptions = {{
    {"merge-every", "steps between background exchanges (0 = a round)", "0", "INT",
     NonNegativeInteger},
}};

class Lasgd : public Algorithm {
 public:
  explicit Lasgd(const OptionValues& o) : merge_every_(static_cast<int>(o.Int("merge-every"))) {}

  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    const int every = merge_every_ > 0 ? merge_every_ : steps;
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      loss += t.Step();
      ++since_exchange_;
      if (in_flight_) {
        auto models = ctx.PollExchange(/*block=*/false, {});
        if (models) ApplyExchange(ctx, *models);
      }
      if (in_flight_ && since_exchange_ >= every) ApplyExchange(ctx, ctx.PollUntilDone());
      if (!in_flight_ && since_exchange_ >= every) {
        snapshot_ = t.params();
        ctx.Publish(tick_, Channel::kModelGossip);
        ctx.BeginExchange(tick_);
        ++tick_;
        in_flight_ = true;
        since_exchange_ = 0;
      }
    }
    return MeanLoss(loss, done, round);
  }

 private:
  void ApplyExchange(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models) {
    Neighbours n(models);
    DeltaAdd(snapshot_, n.weighted, &ctx.trainer().mutable_params());
    ctx.MarkMerged(models);
    in_flight_ = false;
  }

  int merge_every_;
  int since_exchange_ = 0;
  bool in_flight_ = false;
  uint64_t tick_ = 0;
  Eigen::VectorXf snapshot_;
};

}  // namespace

std::span<const OptionSpec> LasgdOptions() { return kLasgdOptions; }

std::unique_ptr<Algorithm> MakeLasgd(const OptionValues& options) {
  return std::make_unique<Lasgd>(options);
}

}  // namespace grapevine::agent::algorithms
