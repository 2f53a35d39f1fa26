// Reading a topology file in any supported format (DOT, GraphML, edge list).
//
// The format comes from the extension (.dot/.gv, .graphml/.xml, .edges/.edgelist/.el/
// .txt), otherwise from the content (a leading '<' is GraphML, a leading
// `[strict] graph|digraph` is DOT, anything else is an edge list).
//
// Typical use (the agent): `GV_ASSIGN_OR_RETURN(Topology t, LoadTopology(path));` then
// `Validate(t, ...)` for the semantic checks; `grapevine topo check` uses
// ReadTopologyFile to get every parse problem as an Issue list.
//
// Thread-safety: pure functions (they read the file system).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "topology/issue.h"
#include "topology/topology.h"

namespace grapevine::topology {

enum class Format { kDot, kGraphml, kEdgeList };

const char* FormatName(Format format);

// By extension, then by content.
Format DetectFormat(const std::string& path, std::string_view text);

// Syntax errors come back as a Status; recoverable problems go to `issues`.
Result<Topology> ParseTopology(std::string_view text, const std::string& source, Format format,
                               std::vector<Issue>* issues);

// Reads and parses `path` (NotFound / IoError when it cannot be read).
Result<Topology> ReadTopologyFile(const std::string& path, std::vector<Issue>* issues);

// ReadTopologyFile, failing (InvalidInput, every problem listed with file:line) when the
// reader reported any error. Does not run Validate().
Result<Topology> LoadTopology(const std::string& path);

}  // namespace grapevine::topology
