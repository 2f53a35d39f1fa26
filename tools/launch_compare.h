// `grapevine launch --compare A,B,..`: the same topology, split and seed for every
// algorithm, one run after the other into OUT/<algo>/, then a comparison report into OUT
// (compare.json, report.html; docs/report.md) and the results table on stdout.
//
// Thread-safety: the launcher's one thread.
#pragma once

#include <string>
#include <vector>

#include "tools/launch_options.h"
#include "topology/topology.h"

namespace grapevine::tools {

// `o.out_dir` is absolute; `algos` checked (ParseAlgoList). Returns the exit code: 0 every
// run complete and the report written, 1 a run failed or the report was not written,
// 2 OUT cannot be created, 130 interrupted.
int RunCompare(const LaunchOptions& o, const std::vector<std::string>& algos,
               const topology::Topology& topo, const std::string& command);

}  // namespace grapevine::tools
