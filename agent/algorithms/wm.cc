// wm: weight matching (Git Re-Basin) alignment by the weights alone, coordinate descent
// over layers, then the weighted average; the DIMAT schedule (ALGORITHMS.md §1
// baselines).
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"
#include "merge/weight_matching.h"

namespace grapevine::agent::algorithms {

namespace {
class WeightMatching : public AlignedMergeAlgorithm {
 public:
  WeightMatching() : AlignedMergeAlgorithm("wm") {}

 protected:
  Result<merge::MergeResult> AlignedMerge(AlgorithmContext& ctx, const Eigen::VectorXf& self,
                                          double self_weight,
                                          const std::vector<merge::NeighbourModel>& nm) override {
    learn::Model& model = ctx.trainer().model();
    return merge::WeightMatchingMerge(model.layout(), model.symmetry(), self, self_weight, nm);
  }
};
}  // namespace

std::unique_ptr<Algorithm> MakeWm(const OptionValues&) {
  return std::make_unique<WeightMatching>();
}

}  // namespace grapevine::agent::algorithms
