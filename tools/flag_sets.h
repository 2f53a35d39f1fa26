// The flags whose values come from a table elsewhere in the tree, each with one help text
// and one check built from that table:
//   --algo       agent/algorithms/registry.h  AllAlgorithms()
//   --order      learn/order.h                      AllOrderKinds() (where each kind runs)
//   --partition  learn/partition.h                  AllPartitionForms() / ParsePartition
//   --schedule   learn/schedule.h                   AllScheduleForms() / ParseSchedule
//   --sampling   learn/sampling.h                   AllSamplingForms() / ParseSampling
//   --optimizer  learn/optimizer.h                  AllOptimizers()
// `agent` and `launch` get them through tools/node_flags.h, `train` directly; the TOML
// config (tools/config_file.h) sets options through the same CLI11 options, so its values
// meet the same checks. Adding a row to a table changes the help, the check and the
// error message together.
//
// Thread-safety: the sets are built once (function-local statics) and then read-only.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "base/status.h"
#include "learn/order.h"

namespace grapevine::tools {

class FlagSet {
 public:
  static const FlagSet& Algo();
  static const FlagSet& Order(learn::OrderSite site);
  static const FlagSet& Partition();
  static const FlagSet& Schedule();
  static const FlagSet& Sampling();
  static const FlagSet& Optimizer();

  // For the flag's help: "rr (random reshuffling) | grab (...)".
  const std::string& help() const { return help_; }
  // Ok, or Invalid saying what is wrong and what is allowed.
  Status Check(const std::string& value) const { return check_(value); }
  // Check() as a CLI11 validator (a parse error, exit 2).
  CLI::Validator Validator() const;

 private:
  FlagSet(std::string help, std::function<Status(const std::string&)> check)
      : help_(std::move(help)), check_(std::move(check)) {}
  std::string help_;
  std::function<Status(const std::string&)> check_;
};

}  // namespace grapevine::tools
