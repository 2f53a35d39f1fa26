// Run reports of `grapevine launch`: everything a person looks at after a swarm run.
//
// WriteRunReport(DIR, ...) writes into the run folder
//   metrics.csv    one row per agent per evaluation (tools/report_data.h)
//   accuracy.svg   mean test accuracy per round, min-max band, one faint line per agent
//   bytes.svg      bytes sent per round, summed over agents
//   topology.svg   the graph, nodes coloured by final accuracy (Graphviz; without it
//                  topology-colored.dot and a note on how to render it)
//   report.html    the command, summary numbers, the pictures, per-agent and per-round
//                  tables; self-contained (inline CSS and SVG, no scripts)
// WriteCompareReport(DIR, runs, ...) writes metrics.csv (with a "run" column),
// accuracy.svg and bytes.svg with one curve per run, compare.json and compare.csv (the
// table) and report.html with a table of final accuracy, rounds to a target, bytes and
// wall time.
//
// ReadRunFolder reads a run folder back (for `grapevine report`, tools/report_cmd.cc).
//
// Rounds are counted as rounds completed (metrics `round` + 1) in plots and tables.
// Both functions only read `RunData`; the files are overwritten. Expected failures
// (cannot create or write a file) come back as a Status.
//
// Thread-safety: not thread-safe when two calls share a folder; runs Graphviz.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "tools/run_summary.h"

namespace grapevine::tools {

struct RunData {
  std::string label;           // e.g. the algorithm; names the run in plots and tables
  nlohmann::json summary;      // summary.json (SummarizeRun + launch's extra keys); may be {}
  std::vector<AgentMetrics> agents;
  std::string report_href;     // compare report: link to this run's own report; empty: none
};

// Returns the names of the files written (relative to `dir`), report.html last.
Result<std::vector<std::string>> WriteRunReport(const std::string& dir, const RunData& run,
                                                const std::string& topology_dot_path,
                                                const std::string& command);

// `target`: the mean accuracy whose first round is reported as "rounds to target".
// compare.json = `extra`'s keys (e.g. the shared setting; must be an object or null)
// plus "target" and "runs" (one object per run: run, complete, final_{mean,min,max}_
// accuracy, rounds_to_target, rounds, bytes_sent_total, bytes_to_target, wall_seconds, agents,
// agents_reporting; null when unknown); compare.csv has the same rows. A run is
// "complete" unless its summary has "complete": false (then marked partial).
Result<std::vector<std::string>> WriteCompareReport(const std::string& dir,
                                                    const std::vector<RunData>& runs,
                                                    double target, const std::string& command,
                                                    const nlohmann::json& extra = nullptr);

// Reads a run folder written by `grapevine launch` (summary.json, metrics/*.jsonl) back
// into a RunData: agents in the order of DIR/topology.dot when it can be read, else by
// file name; label = summary "algo", else the folder name. A missing folder or
// metrics/ is NotFound; a missing or malformed summary.json gives an empty summary.
Result<RunData> ReadRunFolder(const std::string& dir);

}  // namespace grapevine::tools
