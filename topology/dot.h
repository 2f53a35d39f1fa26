// GraphViz DOT reader and writer for topology files (DESIGN §5, docs/topology.md).
//
// Reader: `[strict] graph|digraph [ID] { ... }` with node statements (attributes `addr`,
// `group`; others ignored), edge statements with chains (`a -- b -- c`) and subgraph
// operands, edge attribute `weight`, `graph/node/edge [..]` defaults (ignored),
// `ID = ID` graph attributes (ignored), subgraphs, quoted/numeric/HTML ids, ports
// (ignored), comments (`//`, `/* */`, `#` lines). `--` must be used in `graph` and
// `->` in `digraph`. Not the full DOT grammar (no attribute inheritance), but every
// error names the line.
//
// Syntax errors end parsing and come back as a Status ("file:line: problem").
// Problems that do not stop parsing (non-numeric weight, an edge naming a node that no
// node statement declares when the file's node statements give addresses) are
// appended to `issues`, so one run can report them all.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "topology/issue.h"
#include "topology/topology.h"

namespace grapevine::topology {

// `source` names the input in messages (usually the path).
Result<Topology> ReadDot(std::string_view text, const std::string& source,
                         std::vector<Issue>* issues);

struct DotWriteOptions {
  std::string graph_name = "grapevine";
  bool write_weights = true;  // edge `weight` attributes, when the edge has one
};

// Writes every node (with addr/group when set) and every edge in edges() order; the
// result reads back (ReadDot) to the same topology.
std::string WriteDot(const Topology& topology, const DotWriteOptions& options = {});

// Quotes a DOT id when it is not a plain identifier or numeral.
std::string DotId(std::string_view id);

}  // namespace grapevine::topology
