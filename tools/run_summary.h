// Run summaries: folds the per-agent metrics files of one swarm run into the
// `summary.json` that `grapevine launch` writes (keys fixed by issue 4: algo, nodes,
// rounds, wall_seconds, final{mean,min,max}_accuracy, bytes_sent_total, per_round).
//
// A metrics file is one agent::MetricsRecord per line (agent/metrics_record.h, the one
// definition of the line). Lines that do not parse are skipped and listed with file:line
// (a crashed agent may leave half a line).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/metrics_record.h"
#include "base/status.h"

namespace grapevine::tools {

struct AgentMetrics {
  std::string node;  // node name as in the topology
  std::vector<agent::MetricsRecord> records;
  std::vector<std::string> errors;  // "PATH:LINE: reason", one per malformed line
};

// NotFound when the file cannot be opened.
Result<AgentMetrics> ReadAgentMetrics(const std::string& path, const std::string& node);

// One stderr line per agent with malformed lines: "PROGRAM: warning: FILE:LINE: reason"
// for its first one, and how many more were skipped.
void WarnMalformedLines(const std::vector<AgentMetrics>& agents, const char* program);

// Builds summary.json from every agent's metrics.
nlohmann::json SummarizeRun(const std::vector<AgentMetrics>& agents, const std::string& algo,
                            int rounds, double wall_seconds);

}  // namespace grapevine::tools
