// Validate: every semantic problem of a topology, for `grapevine topo check|inspect` and
// for the agent before it starts (DESIGN §5, §8).
//
// Errors: empty graph, self-loops, duplicate edges, negative weights, malformed or
// duplicate `addr`, `group` attributes that break the rules of groups.h, weights that do not make a mixing matrix under the chosen kind
// (metropolis on a digraph, missing/over-full `file` weights), and — when
// `disconnected_is_error` (check) — a disconnected graph. Warnings: a disconnected graph
// (inspect), nodes without `addr`
// (or with addr="auto": `grapevine agent --base-port` fills those in, docs/cluster.md).
//
// Thread-safety: pure function.
#pragma once

#include <vector>

#include "topology/issue.h"
#include "topology/mixing.h"
#include "topology/topology.h"

namespace grapevine::topology {

struct ValidateOptions {
  WeightsKind weights = WeightsKind::kMetropolis;
  bool disconnected_is_error = true;
};

std::vector<Issue> Validate(const Topology& topology, const ValidateOptions& options);

}  // namespace grapevine::topology
