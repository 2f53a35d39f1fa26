// dpsgd (ALGORITHMS.md §2), adapt then combine, per step: step, publish, average:
// x_i ← Σ_j w_ij (x_j − η g_j). The optimizer keeps its state (row: keep); momentum
// buffers travel with the local model.
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {
class Dpsgd : public Algorithm {
 public:
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      const uint64_t tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      loss += t.Step();
      ctx.Publish(tick, Channel::kModelGossip);
      auto models = ctx.Exchange(tick);
      Neighbours n(models);
      MixInPlace(n.weighted, &t.mutable_params());
      ctx.MarkMerged(models);
    }
    return MeanLoss(loss, done, round);
  }
};
}  // namespace

std::unique_ptr<Algorithm> MakeDpsgd(const OptionValues&) { return std::make_unique<Dpsgd>(); }

}  // namespace grapevine::agent::algorithms
