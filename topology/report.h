// Rendering a topology Report (analyze.h) as JSON or as readable text. Shared by
// `grapevine topo inspect` and `grapevine topo live` so both print the same report.
//
// JSON keys (one object): source, nodes, edges, directed, connected, components,
// degree {min, mean, max}, diameter (null when disconnected), diameter_exact, weights,
// doubly_stochastic, weight_properties {nonnegative, row_stochastic, column_stochastic,
// symmetric, max_row_error, max_column_error}, rho, spectral_gap, consensus_rounds,
// epsilon, lambda2, lambda_n, spectral_method, spectral_note, node_list [{id, addr,
// degree, group?, slowdown? (when not 1), in_degree?, out_degree? (digraphs), state? (live)}],
// groups (null without `group` attributes: {weights, list [{name, size, internal_edges,
// rho, spectral_gap, consensus_rounds}], bridge_edges, inter_links, inter {rho,
// spectral_gap, consensus_rounds} or null with one group}), issues [{severity, line, message}]. Missing values are null.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "topology/analyze.h"

namespace grapevine::topology {

nlohmann::json ReportToJson(const Report& report);

// `max_nodes_listed`: longer node lists end with "... N more (use --json)".
std::string ReportToText(const Report& report, int max_nodes_listed = 100);

}  // namespace grapevine::topology
