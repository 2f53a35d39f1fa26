// Run summaries: folds the per-agent metrics files of one swarm run into the
// `summary.json` that `grapevine launch` writes (keys fixed by issue 4: algo, nodes,
// rounds, wall_seconds, final{mean,min,max}_accuracy, bytes_sent_total, per_round).
//
// Metrics file format (one JSON object per line, written by agent/node.cc):
//   {"t":1.25,"node":3,"round":7,"step":350,"loss":0.41,"test_accuracy":0.83,
//    "bytes_in":..,"bytes_out":..,"models_received":..,"models_merged":..,
//    "models_rejected":..,"models_superseded":..,"neighbours_alive":2}
// test_accuracy is present only on evaluation rounds. Lines that do not parse are
// skipped and counted (a crashed agent may leave half a line).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"

namespace grapevine::tools {

struct AgentMetrics {
  std::string node;  // node name as in the topology
  std::vector<nlohmann::json> lines;
  size_t bad_lines = 0;
};

Result<AgentMetrics> ReadAgentMetrics(const std::string& path, const std::string& node);

// Builds summary.json from every agent's metrics.
nlohmann::json SummarizeRun(const std::vector<AgentMetrics>& agents, const std::string& algo,
                            int rounds, double wall_seconds);

}  // namespace grapevine::tools
