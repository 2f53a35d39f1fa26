// Synthetic metrics for the report tests: agents' metrics records
// (agent/metrics_record.h), without running a swarm.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/run_summary.h"

namespace grapevine::tools::fixture {

inline agent::MetricsRecord Line(int round, uint64_t bytes_out, std::optional<double> accuracy,
                                 double loss = 0.5) {
  agent::MetricsRecord r;
  r.t = 0.5 * (round + 1);
  r.node = 0;
  r.round = round;
  r.step = 50 * (round + 1);
  r.loss = loss;
  r.bytes_in = bytes_out / 2;
  r.bytes_out = bytes_out;
  r.models_merged = static_cast<uint64_t>(round);
  r.models_rejected = 0;
  r.test_accuracy = accuracy;
  return r;
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
    a.records.push_back(Line(r, static_cast<uint64_t>(bytes_per_round * (r + 1)), acc));
  }
  return a;
}

}  // namespace grapevine::tools::fixture
