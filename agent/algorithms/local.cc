// local: no communication (the baseline every curve is compared with).
#include "agent/algorithms/plugins.h"
#include "agent/algorithms/shared.h"

namespace grapevine::agent::algorithms {

namespace {
class Local : public Algorithm {
 public:
  Result<double> RunRound(AlgorithmContext& ctx, uint64_t round, int steps) override {
    return LocalSteps(ctx, round, steps);
  }
};
}  // namespace

std::unique_ptr<Algorithm> MakeLocal(const OptionValues&) { return std::make_unique<Local>(); }

}  // namespace grapevine::agent::algorithms
