#include "agent/algorithms/registry.h"

#include <algorithm>
#include <array>

#include "agent/algorithms/plugins.h"
#include "base/check.h"

namespace grapevine::agent::algorithms {

namespace {
using C = Channel;
constexpr auto kReset = OptimizerPolicy::kReset;
constexpr auto kKeep = OptimizerPolicy::kKeep;
constexpr bool kDirected = true;

// Init defaults: the alignment merges (dimat, wm) start from per-node seeds as the
// DIMAT paper does — aligning independently initialised models is what they are for.
// Everything that averages raw coordinates starts from one shared model, as D-PSGD
// implementations do: averaging two unrelated random networks destroys both. local
// uses shared so its curve differs from the others only by the communication.
const std::array<AlgoSpec, 12> kAlgorithms = {{
    {"dimat", "activation-matching merge on the agent's own probe data, then weighted average",
     "per-node", kReset, {C::kModelGossip}, !kDirected, DimatOptions(), MakeDimat},
    {"wa", "weighted average of the neighbours' models once per round", "shared", kReset,
     {C::kModelGossip}, !kDirected, {}, MakeWa},
    {"wm", "weight matching (Git Re-Basin) alignment, then weighted average", "per-node", kReset,
     {C::kModelGossip}, !kDirected, {}, MakeWm},
    {"dpsgd", "D-PSGD, adapt then combine, one exchange per step (--compress: compressed differences)",
     "shared", kKeep, {C::kModelGossip, C::kCompressedGossip}, !kDirected, DpsgdOptions(),
     MakeDpsgd},
    {"cdsgd", "combine then adapt, one exchange per step", "shared", kKeep, {C::kModelGossip},
     !kDirected, {}, MakeCdsgd},
    {"cga", "cross-gradient aggregation: neighbours' gradients of our model, QP projection (--compress: CompCGA)",
     "shared", kKeep,
     {C::kModelGossip, C::kCrossGradientRequest, C::kCrossGradientReply, C::kCompressedGossip},
     !kDirected, CgaOptions(), MakeCga},
    {"lasgd", "local-asynchronous SGD: background exchange, delta-add on completion", "shared",
     kKeep, {C::kModelGossip}, !kDirected, LasgdOptions(), MakeLasgd},
    {"local", "no communication (baseline; any graph)", "shared", kKeep, {}, kDirected, {}, MakeLocal},
    {"sgp", "Stochastic Gradient Push: push-sum gossip, works on directed graphs", "shared",
     kKeep, {C::kPushShare}, kDirected, SgpOptions(), MakeSgp},
    {"choco", "CHOCO-SGD: compressed gossip with error feedback (--compress; Efficient-Adam with --optimizer adam)",
     "shared", kKeep, {C::kCompressedGossip}, !kDirected, ChocoOptions(), MakeChoco},
    {"efficient-adam",
     "two-way Efficient-Adam: compressed steps to the group's leader and back (error feedback "
     "both ways), CHOCO between leaders",
     "shared", kKeep, {C::kGroupUpdate, C::kCompressedGossip}, !kDirected,
     EfficientAdamOptions(), MakeEfficientAdam},
    {"daso",
     "DASO: blocking averages inside each topology group every ls steps, snapshots to the "
     "other groups every gs steps merged without waiting; gs from a loss plateau",
     "shared", kKeep, {C::kModelGossip, C::kGlobalSnapshot}, !kDirected, DasoOptions(),
     MakeDaso},
}};
}  // namespace

std::span<const AlgoSpec> AllAlgorithms() {
  GV_CHECK(kAlgorithms[0].name == kDefaultAlgo);
  return kAlgorithms;
}

std::string AlgorithmNames(std::string_view separator) {
  std::string out;
  for (const auto& a : kAlgorithms) {
    if (!out.empty()) out += separator;
    out += a.name;
  }
  return out;
}

Result<AlgoSpec> FindAlgorithm(std::string_view name) {
  for (const auto& a : kAlgorithms) {
    if (a.name == name) return a;
  }
  return Status::Invalid("unknown --algo '" + std::string(name) + "' (one of " +
                         AlgorithmNames(", ") + ")");
}

Result<std::string> ResolveInit(const AlgoSpec& spec, const std::string& init) {
  if (init.empty()) return std::string(spec.default_init);
  if (init == "shared" || init == "per-node") return init;
  return Status::Invalid("--init must be shared or per-node, not '" + init + "'");
}

std::vector<DeclaredOption> AllOptions() {
  std::vector<DeclaredOption> out;
  for (const auto& a : kAlgorithms) {
    for (const OptionSpec& o : a.options) {
      auto it = std::find_if(out.begin(), out.end(),
                             [&](const DeclaredOption& d) { return d.spec->name == o.name; });
      if (it == out.end()) {
        out.push_back({&o, std::string(a.name),
                       {{std::string(o.default_value), std::string(a.name)}}, {&o}});
        continue;
      }
      it->used_by += ", " + std::string(a.name);
      it->specs.push_back(&o);
      // One flag, one meaning; the default may differ by algorithm (--compress: sign for
      // choco, none for the others).
      auto d = std::find_if(it->defaults.begin(), it->defaults.end(),
                            [&](const auto& kv) { return kv.first == o.default_value; });
      if (d == it->defaults.end()) {
        it->defaults.emplace_back(std::string(o.default_value), std::string(a.name));
      } else {
        d->second += ", " + std::string(a.name);
      }
    }
  }
  return out;
}

std::string DeclaredOption::DefaultText() const {
  if (defaults.size() == 1) return defaults.front().first;
  std::string out;
  for (const auto& [value, algos] : defaults) {
    if (!out.empty()) out += "; ";
    out += value + " (" + algos + ")";
  }
  return out;
}

std::string DeclaredOption::Validate(const std::string& value) const {
  std::string why;
  for (const OptionSpec* o : specs) {
    why = o->validate(value);
    if (why.empty()) return why;
  }
  return why;
}

Result<OptionValues> ResolveOptions(const AlgoSpec& spec,
                                    const std::map<std::string, std::string>& given) {
  const std::vector<DeclaredOption> declared = AllOptions();
  for (const auto& [name, value] : given) {
    auto it = std::find_if(declared.begin(), declared.end(),
                           [&](const DeclaredOption& d) { return d.spec->name == name; });
    if (it == declared.end()) {
      return Status::Invalid("unknown algorithm option --" + name);
    }
    // The running row's own check for its options, any row's for the others.
    auto own = std::find_if(spec.options.begin(), spec.options.end(),
                            [&](const OptionSpec& o) { return o.name == name; });
    const std::string why = own != spec.options.end() ? own->validate(value) : it->Validate(value);
    if (!why.empty()) return Status::Invalid("--" + name + ": " + why);
  }
  std::map<std::string, std::string> values;
  for (const OptionSpec& o : spec.options) {
    auto it = given.find(std::string(o.name));
    values[std::string(o.name)] = it != given.end() ? it->second : std::string(o.default_value);
  }
  return OptionValues(std::move(values));
}

}  // namespace grapevine::agent::algorithms
