// Groups: the node attribute `group` (DOT, GraphML, edge list) as two-tier schemes use
// it — DASO's fast local tier inside a group, the slow global tier between groups
// (ALGORITHMS.md §6), efficient-adam's one leader per group (§5).
//
// Rules (ValidateGroups; `topo check`, `topo inspect`, `agent`, `launch` refuse a file
// that breaks them, with file:line):
//   - every node has a group, or none has;
//   - each group is connected inside (digraph: strongly), so a group can average by
//     itself;
//   - with two groups or more, at least one edge joins two groups.
//
// AnalyzeGroups: per group its size, internal edges and the spectral figures of its
// induced subgraph; the inter-group graph (one vertex per group, an edge when some edge
// joins the two groups) and its spectral figures. Groups are listed in the order of
// their first node.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "topology/issue.h"
#include "topology/mixing.h"
#include "topology/spectral.h"
#include "topology/topology.h"

namespace grapevine::topology {

struct GroupStats {
  std::string name;
  std::vector<int> members;  // node indices, ascending
  int internal_edges = 0;
  SpectralInfo spectral;     // of the induced subgraph
};

struct GroupsReport {
  WeightsKind weights = WeightsKind::kMetropolis;  // used for the groups and the inter graph
  std::vector<GroupStats> groups;
  int bridge_edges = 0;  // edges whose ends are in different groups
  int inter_links = 0;   // edges of the inter-group graph (group pairs joined)
  std::optional<SpectralInfo> inter;  // nullopt with one group
};

// True when some node has a non-empty group.
bool HasGroups(const Topology& topology);

// The rules above as errors; empty when the file has no groups.
std::vector<Issue> ValidateGroups(const Topology& topology);

// The subgraph on `members` (node indices), names, addrs, groups and weights kept.
Topology InducedSubgraph(const Topology& topology, const std::vector<int>& members);

// nullopt when no node has a group. `weights`: the whole graph's kind; `file` weights
// do not form a mixing matrix on a part of the graph, so the parts use the default kind
// then (metropolis, or push-sum for digraphs).
std::optional<GroupsReport> AnalyzeGroups(const Topology& topology, WeightsKind weights,
                                          const SpectralOptions& options = {});

}  // namespace grapevine::topology
