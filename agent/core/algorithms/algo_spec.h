// AlgoSpec: the table of training algorithms an agent can run (`--algo`), and what
// each one does by default. Single source for the CLI's allowed set, the agent's
// factory and docs/algorithms.md.
//
// Every algorithm runs `--local-steps E` optimizer steps per round. Per-step
// algorithms (dpsgd, cdsgd) exchange models on every one of those steps; round
// algorithms (dimat, wa, wm) once per round; cga sends its model and gets
// cross-gradients back on every step; lasgd every `--merge-every` steps in
// the background; local never.
// Thread-safety: immutable data and pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace grapevine::agent::algorithms {

enum class Family {
  kRoundMerge,  // E local steps, then one blocking exchange + merge (dimat, wa, wm)
  kPerStep,     // one blocking exchange per optimizer step (dpsgd, cdsgd)
  kCrossGradient,  // per step: models out, cross-gradients back, projected sum (cga)
  kLocalAsync,  // exchange in the background, delta-add on completion (lasgd)
  kLocal,       // no communication (baseline)
};

// What a merge does to the optimizer state (DESIGN §6).
enum class OptimizerPolicy { kReset, kKeep };

struct AlgoSpec {
  std::string_view name;
  Family family;
  // Default --init when the user does not pass one: "per-node" or "shared".
  std::string_view default_init;
  OptimizerPolicy optimizer_policy;
  std::string_view summary;
};

// All algorithms, the default (dimat) first.
std::span<const AlgoSpec> AllAlgorithms();

inline constexpr std::string_view kDefaultAlgo = "dimat";

// Invalid (naming the allowed set) for an unknown name.
Result<AlgoSpec> FindAlgorithm(std::string_view name);

// --init as given, or the algorithm's default when `init` is empty.
// Invalid for anything but "", "shared" and "per-node".
Result<std::string> ResolveInit(const AlgoSpec& spec, const std::string& init);

}  // namespace grapevine::agent::algorithms
