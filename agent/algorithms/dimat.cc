// dimat (ALGORITHMS.md §1): E local steps, then the activation-matching merge of the
// neighbours' models on a probe of the agent's OWN data (step 3), weighted average,
// REPAIR; the row resets the optimizer after every merge (step 8).
#include <algorithm>
#include <array>
#include <numeric>
#include <random>

#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"
#include "learn/trainer.h"
#include "merge/dimat.h"

namespace grapevine::agent::algorithms {

namespace {

std::string RepairModeValid(const std::string& in) { return OneOf(in, {"off", "matched", "every"}); }

constexpr std::array<OptionSpec, 3> kDimatOptions = {{
    {"probe-samples", "probe examples from the agent's own shard", "2000", "INT",
     PositiveInteger},
    {"dimat-weight-prior", "match units by correlation + this x weight cosine (0 = the paper)",
     "0", "FLOAT", NonNegativeNumber},
    {"dimat-repair",
     "REPAIR merged units to the endpoints' activation statistics: off | matched (merges "
     "that matched a neighbour) | every (every merge, like the paper's BN reset)",
     "matched", "TEXT", RepairModeValid},
}};

class Dimat : public AlignedMergeAlgorithm {
 public:
  explicit Dimat(const OptionValues& o) : AlignedMergeAlgorithm("dimat") {
    probe_samples_ = o.Int("probe-samples");
    options_.weight_prior = o.Double("dimat-weight-prior");
    // Validated by the declaration above.
    options_.repair = *merge::ParseRepairMode(o.String("dimat-repair"));
  }

  void Start(AlgorithmContext& ctx, const proto::ModelPayload* initial) override {
    AlignedMergeAlgorithm::Start(ctx, initial);
    // A seeded sample of the own shard, so a class-sorted shard still shows every
    // class it has.
    const learn::Dataset& own = ctx.trainer().shard();
    std::vector<int64_t> idx(static_cast<size_t>(own.size()));
    std::iota(idx.begin(), idx.end(), int64_t{0});
    std::mt19937_64 rng(ctx.seed());
    std::shuffle(idx.begin(), idx.end(), rng);
    idx.resize(std::min<size_t>(idx.size(), static_cast<size_t>(probe_samples_)));
    probe_ = own.Subset(idx).Dense();
  }

 protected:
  Result<merge::MergeResult> AlignedMerge(AlgorithmContext& ctx, const Eigen::VectorXf& self,
                                          double self_weight,
                                          const std::vector<merge::NeighbourModel>& nm) override {
    return merge::DimatMerge(ctx.trainer().model(), self, self_weight, nm, probe_, options_);
  }

 private:
  int64_t probe_samples_ = 0;
  merge::DimatOptions options_;
  Eigen::MatrixXf probe_;  // features × samples of the own shard
};

}  // namespace

std::span<const OptionSpec> DimatOptions() { return kDimatOptions; }

std::unique_ptr<Algorithm> MakeDimat(const OptionValues& options) {
  return std::make_unique<Dimat>(options);
}

}  // namespace grapevine::agent::algorithms
