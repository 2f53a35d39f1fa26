// Plain edge-list reader: one `u v [weight]` per line, `#` starts a comment, a line
// with a lone id declares an isolated node. Ids are any whitespace-free tokens. The
// graph is undirected. Extension (documented in docs/topology.md): a lone id may be
// followed by `addr=host:port` and/or `group=NAME` to give the node its attributes.
//
// Every malformed line is appended to `issues` (reading continues), so the result is a
// Status only when the text is not an edge list at all (e.g. binary data).
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

Result<Topology> ReadEdgeList(std::string_view text, const std::string& source,
                              std::vector<Issue>* issues);

}  // namespace grapevine::topology
