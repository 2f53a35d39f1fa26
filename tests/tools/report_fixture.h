// Synthetic metrics for the report tests: agents whose lines follow the format of
// tools/run_summary.h, without running a swarm.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tools/run_summary.h"

namespace grapevine::tools::fixture {

inline nlohmann::json Line(int round, double bytes_out, std::optional<double> accuracy,
                           double loss = 0.5) {
  nlohmann::json j = {{"t", 0.5 * (round + 1)}, {"node", 0},          {"round", round},
                      {"step", 50 * (round + 1)}, {"loss", loss},      {"bytes_in", bytes_out / 2},
                      {"bytes_out", bytes_out},   {"models_merged", round}, {"models_rejected", 0}};
  if (accuracy) j["test_accuracy"] = *accuracy;
  return j;
}

// `rounds` rounds, evaluation every `eval_every` rounds (on rounds eval_every-1, ...),
// accuracy base + slope * round, bytes_out growing by `bytes_per_round`.
inline AgentMetrics Agent(const std::string& name, int rounds, int eval_every, double base,
                          double slope, double bytes_per_round) {
  AgentMetrics a;
  a.node = name;
  for (int r = 0; r < rounds; ++r) {
    std::optional<double> acc;
    if ((r + 1) % eval_every == 0) acc = base + slope * r;
    a.lines.push_back(Line(r, bytes_per_round * (r + 1), acc));
  }
  return a;
}

}  // namespace grapevine::tools::fixture
