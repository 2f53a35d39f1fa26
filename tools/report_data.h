// The numbers behind a run report (tools/report.h): per-round aggregates across
// agents, per-agent summaries and metrics.csv, computed from the agents' metrics lines
// (agent/metrics_record.h). Pure functions, so they are unit-tested on synthetic
// metrics without running a swarm.
//
// Rounds: a metrics line's `round` is 0-based; everything here reports *rounds
// completed* = round + 1, so "rounds to target 10" means the 10th round's evaluation
// reached the target and the plots' x axis starts at 1.
//
// Robustness: optional fields an older agent did not write are treated as absent. If
// an agent logs one round twice (e.g. it resumed from a checkpoint) its last line for
// that round counts. A bytes_out counter that goes down (a restarted agent) is taken
// as starting again from zero.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/run_summary.h"

namespace grapevine::tools {

// One round, across all agents that logged it.
struct RoundAggregate {
  int64_t round = 0;       // rounds completed (metrics round + 1)
  int agents_logged = 0;   // agents with a line for this round
  int agents_evaluated = 0;  // of which with a test_accuracy
  // Over the agents that evaluated; NaN when none did.
  double mean_accuracy = 0, min_accuracy = 0, max_accuracy = 0;
  double mean_loss = 0;  // over the agents that logged a loss; NaN when none did
  uint64_t bytes_sent = 0;  // sum over agents of their bytes_out growth since their last line
};

// Sorted by round; only rounds some agent logged.
std::vector<RoundAggregate> AggregateRounds(const std::vector<AgentMetrics>& agents);

// First round (rounds completed) whose mean accuracy is >= target, if any.
std::optional<int64_t> RoundsToTarget(const std::vector<RoundAggregate>& rounds, double target);
// Bytes sent by all agents up to and including that round (bits to accuracy).
std::optional<uint64_t> BytesToTarget(const std::vector<RoundAggregate>& rounds, double target);

// One agent over the whole run.
struct AgentSummary {
  std::string node;
  std::vector<std::pair<int64_t, double>> accuracy;  // (rounds completed, test accuracy)
  std::optional<double> final_accuracy;  // its last evaluation
  int64_t rounds = 0;                    // rounds completed (highest round + 1)
  uint64_t bytes_sent = 0;               // over the run, counter resets included
  uint64_t bytes_received = 0;
  uint64_t models_merged = 0;    // last value logged
  uint64_t models_rejected = 0;  // last value logged
  size_t bad_lines = 0;
  std::optional<double> slowdown;  // straggler emulation factor, when it ran with one
};

AgentSummary SummarizeAgent(const AgentMetrics& agent);

// Final accuracy across agents (each agent's last evaluation) and run totals.
struct RunTotals {
  std::optional<double> final_mean, final_min, final_max;
  int agents_reporting = 0;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  int64_t rounds = 0;  // most rounds completed by any agent
};

RunTotals ComputeTotals(const std::vector<AgentSummary>& agents);

// metrics.csv: a header, then one row per agent per evaluation (lines with a
// test_accuracy), runs and agents in the given order. Columns: the agent's name, then
// every field of agent::MetricsRecord but `node`, in ForEachMetricsField order (round as
// logged, 0-based; an absent field is empty); `with_run_column` adds a first column "run".
struct CsvRun {
  std::string label;
  const std::vector<AgentMetrics>* agents = nullptr;  // not owned; must be non-null
};
std::string MetricsCsv(const std::vector<CsvRun>& runs, bool with_run_column);

// The numeric field `key` of a JSON object (summary.json), or nullopt when absent or not
// a finite number.
std::optional<double> NumberField(const nlohmann::json& line, const char* key);

}  // namespace grapevine::tools
