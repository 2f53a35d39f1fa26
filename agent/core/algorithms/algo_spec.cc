#include "agent/core/algorithms/algo_spec.h"

#include <array>

namespace grapevine::agent::algorithms {

namespace {
// Init defaults: the alignment merges (dimat, wm) start from per-node seeds as the
// DIMAT paper does — aligning independently initialised models is what they are for.
// Everything that averages raw coordinates starts from one shared model, as D-PSGD
// implementations do: averaging two unrelated random networks destroys both. local
// uses shared so its curve differs from the others only by the communication.
constexpr std::array<AlgoSpec, 8> kAlgorithms = {{
    {"dimat", Family::kRoundMerge, "per-node", OptimizerPolicy::kReset,
     "activation-matching merge on the agent's own probe data, then weighted average"},
    {"wa", Family::kRoundMerge, "shared", OptimizerPolicy::kReset,
     "weighted average of the neighbours' models once per round"},
    {"wm", Family::kRoundMerge, "per-node", OptimizerPolicy::kReset,
     "weight matching (Git Re-Basin) alignment, then weighted average"},
    {"dpsgd", Family::kPerStep, "shared", OptimizerPolicy::kKeep,
     "D-PSGD, adapt then combine, one exchange per step"},
    {"cdsgd", Family::kPerStep, "shared", OptimizerPolicy::kKeep,
     "combine then adapt, one exchange per step"},
    {"cga", Family::kCrossGradient, "shared", OptimizerPolicy::kKeep,
     "cross-gradient aggregation: neighbours' gradients of our model, QP projection"},
    {"lasgd", Family::kLocalAsync, "shared", OptimizerPolicy::kKeep,
     "local-asynchronous SGD: background exchange, delta-add on completion"},
    {"local", Family::kLocal, "shared", OptimizerPolicy::kKeep,
     "no communication (baseline)"},
}};
}  // namespace

std::span<const AlgoSpec> AllAlgorithms() { return kAlgorithms; }

Result<AlgoSpec> FindAlgorithm(std::string_view name) {
  std::string allowed;
  for (const auto& a : kAlgorithms) {
    if (a.name == name) return a;
    allowed += (allowed.empty() ? "" : ", ") + std::string(a.name);
  }
  return Status::Invalid("unknown --algo '" + std::string(name) + "' (one of " + allowed + ")");
}

Result<std::string> ResolveInit(const AlgoSpec& spec, const std::string& init) {
  if (init.empty()) return std::string(spec.default_init);
  if (init == "shared" || init == "per-node") return init;
  return Status::Invalid("--init must be shared or per-node, not '" + init + "'");
}

}  // namespace grapevine::agent::algorithms
