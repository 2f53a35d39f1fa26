// GraphML reader for topology files, for what networkx (`write_graphml`) and Gephi write.
//
// Reads the first <graph> (edgedefault directed/undirected), its <node id=..> and
// <edge source=.. target=..> elements in any order, and <data> values for keys whose
// attr.name (or, without one, id) is `addr`, `group` (nodes) or `weight` (edges);
// <default> values of those keys apply to elements without data. Other keys, and
// elements from other namespaces (Gephi's viz:*), are ignored. Uses a small built-in
// XML tokenizer (elements, attributes, text, comments, CDATA, <?..?>, <!DOCTYPE>,
// the five named entities and numeric character references), so line numbers in
// messages are exact and no XML library is needed.
//
// Syntax errors come back as a Status ("file:line: problem"); an edge naming an
// undeclared node or a non-numeric weight are appended to `issues`.
//
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "topology/issue.h"
#include "topology/topology.h"

namespace grapevine::topology {

Result<Topology> ReadGraphml(std::string_view text, const std::string& source,
                             std::vector<Issue>* issues);

}  // namespace grapevine::topology
