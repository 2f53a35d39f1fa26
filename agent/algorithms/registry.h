// The registry of training algorithms an agent can run (`--algo`): one row per
// algorithm, the single source for the CLI's allowed set and help, the algorithm
// options of `grapevine agent` / `grapevine launch` / the TOML config, the Node's
// routing and optimizer policy, and docs/algorithms.md ("how to add an algorithm").
//
// A row declares what the framework needs to know without knowing the algorithm:
// its channels (the Node drops traffic of any other channel), whether it runs on a
// directed topology (`digraph`; the Node rejects one otherwise), what a merge does to
// the optimizer (the context applies it in MarkMerged), its options, and its factory.
// Thread-safety: immutable data and pure functions.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/algorithms/channel.h"
#include "agent/algorithms/option.h"
#include "base/status.h"

namespace grapevine::agent::algorithms {

class Algorithm;

// What a merge does to the optimizer state (DESIGN §6). Applied by the framework
// after every merge the algorithm reports (AlgorithmContext::MarkMerged).
enum class OptimizerPolicy { kReset, kKeep };

using Factory = std::unique_ptr<Algorithm> (*)(const OptionValues& options);

struct AlgoSpec {
  std::string_view name;
  std::string_view summary;
  // --init when the user does not pass one: "per-node" or "shared".
  std::string_view default_init;
  OptimizerPolicy optimizer_policy;
  ChannelSet channels;
  bool directed = false;  // runs on a `digraph` (sends to out-, receives from in-neighbours)
  std::span<const OptionSpec> options;
  Factory factory = nullptr;
};

// All algorithms, the default (kDefaultAlgo) first.
std::span<const AlgoSpec> AllAlgorithms();
inline constexpr std::string_view kDefaultAlgo = "dimat";

// The allowed names joined by `separator` ("dimat, wa, ..."), in table order.
std::string AlgorithmNames(std::string_view separator);

// Invalid (naming the allowed set) for an unknown name.
Result<AlgoSpec> FindAlgorithm(std::string_view name);

// --init as given, or the algorithm's default when `init` is empty.
// Invalid for anything but "", "shared" and "per-node".
Result<std::string> ResolveInit(const AlgoSpec& spec, const std::string& init);

// Every option any row declares, once per name (rows may share one, e.g. two
// algorithms with the same knob), with the algorithms that use it ("dimat" / "dimat, wm").
struct DeclaredOption {
  const OptionSpec* spec = nullptr;
  std::string used_by;
  // Each distinct default with the algorithms that declare it, in table order.
  std::vector<std::pair<std::string, std::string>> defaults;
  // Every row's declaration of it, in table order.
  std::vector<const OptionSpec*> specs;
  // "sign" or, when the rows differ, "sign (choco); none (dpsgd, cga)" (for --help).
  std::string DefaultText() const;
  // "" when some row's validator accepts `value` (the running row's own check comes
  // later, in ResolveOptions); else the last row's message.
  std::string Validate(const std::string& value) const;
};
std::vector<DeclaredOption> AllOptions();

// Checks `given` (option name → value, as NodeOptions::algo_options carries them):
// every name must be declared by some row and its value must pass that declaration's
// validator ("--name: what is wrong"). Options of other algorithms are checked and
// then ignored: `launch` passes every declared option to every agent. Returns the
// running algorithm's options with the defaults filled in.
Result<OptionValues> ResolveOptions(const AlgoSpec& spec,
                                    const std::map<std::string, std::string>& given);

}  // namespace grapevine::agent::algorithms
