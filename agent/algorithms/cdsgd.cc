// cdsgd (ALGORITHMS.md §2), combine then adapt, per step: publish x, step,
// x ← mix(x_before) + (x_after − x_before). Publishing before the step overlaps the
// exchange with the gradient computation. The optimizer keeps its state (row: keep).
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {
class Cdsgd : public Algorithm {
 public:
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    learn::Trainer& t = ctx.trainer();
    double loss = 0;
    int done = 0;
    for (; done < steps && !ctx.stopping(); ++done) {
      const uint64_t tick = round * static_cast<uint64_t>(steps) + static_cast<uint64_t>(done);
      before_ = t.params();
      ctx.Publish(tick, Channel::kModelGossip);
      loss += t.Step();
      auto models = ctx.Exchange(tick);
      Neighbours n(models);
      CombineThenAdapt(before_, n.weighted, &t.mutable_params());
      ctx.MarkMerged(models);
    }
    return MeanLoss(loss, done, round);
  }

 private:
  Eigen::VectorXf before_;
};
}  // namespace

std::unique_ptr<Algorithm> MakeCdsgd(const OptionValues&) { return std::make_unique<Cdsgd>(); }

}  // namespace grapevine::agent::algorithms
