#include "tools/flag_sets.h"

#include "agent/algorithms/registry.h"
#include "base/join.h"
#include "learn/optimizer.h"
#include "learn/partition.h"
#include "learn/sampling.h"
#include "learn/schedule.h"

namespace grapevine::tools {
namespace {

// The kinds that run at `site`, as "rr, grab".
std::string OrdersAt(learn::OrderSite site) {
  std::vector<std::string_view> names;
  for (const auto& k : learn::AllOrderKinds()) {
    if (learn::AvailableAt(k, site)) names.push_back(k.name);
  }
  return JoinNames(names, [](std::string_view n) { return n; }, ", ");
}

}  // namespace

const FlagSet& FlagSet::Algo() {
  static const FlagSet set(
      JoinNames(agent::algorithms::AllAlgorithms(),
                [](const agent::algorithms::AlgoSpec& a) { return a.name; }, " | ") +
          " (docs/algorithms.md)",
      [](const std::string& v) { return agent::algorithms::FindAlgorithm(v).status(); });
  return set;
}

const FlagSet& FlagSet::Order(learn::OrderSite site) {
  auto make = [](learn::OrderSite s) {
    std::string help = "example order: ";
    bool first = true;
    for (const auto& k : learn::AllOrderKinds()) {
      if (!learn::AvailableAt(k, s)) continue;
      help += (first ? "" : " | ") + std::string(k.name) + " (" + std::string(k.summary) + ")";
      first = false;
    }
    return FlagSet(help, [s](const std::string& v) -> Status {
      GV_ASSIGN_OR_RETURN(learn::OrderKind kind, learn::FindOrderKind(v));
      if (learn::AvailableAt(kind, s)) return Status::Ok();
      return Status::Invalid("example order '" + v + "' is not available " +
                             (s == learn::OrderSite::kTrain ? "in `grapevine train`"
                                                            : "in a swarm agent") +
                             ": " + std::string(kind.unavailable) + " (here: " + OrdersAt(s) +
                             ")");
    });
  };
  static const FlagSet train = make(learn::OrderSite::kTrain);
  static const FlagSet agent = make(learn::OrderSite::kAgent);
  return site == learn::OrderSite::kTrain ? train : agent;
}

const FlagSet& FlagSet::Partition() {
  static const FlagSet set(
      JoinNames(learn::AllPartitionForms(),
                [](const learn::PartitionForm& f) { return f.syntax; }, " | ") +
          " (docs/data.md)",
      [](const std::string& v) { return learn::ParsePartition(v).status(); });
  return set;
}

const FlagSet& FlagSet::Schedule() {
  static const FlagSet set(
      JoinNames(learn::AllScheduleForms(), [](const learn::ScheduleForm& f) { return f.syntax; },
                " | ") +
          " (per epoch of the shard)",
      [](const std::string& v) { return learn::ParseSchedule(v).status(); });
  return set;
}

const FlagSet& FlagSet::Sampling() {
  static const FlagSet set(
      "examples per step: " +
          JoinNames(learn::AllSamplingForms(),
                    [](const learn::SamplingForm& f) {
                      return std::string(f.syntax) + " (" + std::string(f.summary) + ")";
                    },
                    " | "),
      [](const std::string& v) {
        return learn::CheckSampling(v);
      });
  return set;
}

const FlagSet& FlagSet::Optimizer() {
  static const FlagSet set(
      JoinNames(learn::AllOptimizers(), [](const learn::OptimizerInfo& o) { return o.name; },
                " | "),
      [](const std::string& v) { return learn::ParseOptimizerKind(v).status(); });
  return set;
}

CLI::Validator FlagSet::Validator() const {
  const auto check = check_;
  return CLI::Validator(
      [check](std::string& value) -> std::string {
        Status s = check(value);
        return s.ok() ? std::string() : s.message();
      },
      "");
}

}  // namespace grapevine::tools
