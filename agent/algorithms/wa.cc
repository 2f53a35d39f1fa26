// wa: plain weighted average once per round, x ← Σ_j w_ij x_j (ALGORITHMS.md §1 step 7
// without alignment) on the DIMAT schedule.
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

namespace {
class WeightedAverage : public RoundMergeAlgorithm {
 public:
  WeightedAverage() : RoundMergeAlgorithm("wa") {}

 protected:
  Status Merge(AlgorithmContext& ctx, const std::vector<ArrivedModel>& models) override {
    Neighbours n(models);
    MixInPlace(n.weighted, &ctx.trainer().mutable_params());
    return Status::Ok();
  }
};
}  // namespace

std::unique_ptr<Algorithm> MakeWa(const OptionValues&) {
  return std::make_unique<WeightedAverage>();
}

}  // namespace grapevine::agent::algorithms
