// Picture of a topology for `grapevine topo render`: a DOT document whose nodes show id
// and addr and whose edges optionally show mixing weights, laid out by Graphviz
// (`neato` for graphs, `fdp` for graphs with groups, `dot` for digraphs) when it is
// installed. Nodes with a `group` attribute are drawn inside one cluster per group.
//
// Thread-safety: functions run a child process; call from one thread.
#pragma once

#include <optional>
#include <string>

#include "base/status.h"
#include "topology/mixing.h"
#include "topology/topology.h"

namespace grapevine::tools {

// Labels: "id\naddr" on nodes; with `mixing`, w_ii under the id and w_ij on edges.
// Grouped nodes sit in a subgraph "cluster_<group>" labelled "group <name>".
std::string RenderDot(const topology::Topology& topology,
                      const topology::MixingMatrix* mixing);

// Writes `out` (.svg, .png or .dot). For .svg/.png without Graphviz, writes the DOT to
// `out` with a .dot extension and returns Unavailable with install instructions.
// `clusters`: the DOT has clusters (groups), which neato ignores; fdp draws them.
Status RenderToFile(const std::string& dot, const std::string& out, bool directed,
                    bool clusters = false);

// Full path of `program` on $PATH, or nullopt.
std::optional<std::string> FindOnPath(const std::string& program);

}  // namespace grapevine::tools
