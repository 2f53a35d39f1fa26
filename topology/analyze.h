// Analyze: the whole report `grapevine topo inspect` prints — counts, connectivity,
// degrees, diameter, mixing weights and their properties, spectrum, per-node list —
// computed from any Topology. `grapevine topo live` builds a Topology from an agent's
// live view, calls Analyze, fills NodeReport::state and renders it with report.h, so
// both commands print the same thing.
//
// Thread-safety: pure function; Report is a value type.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "topology/groups.h"
#include "topology/issue.h"
#include "topology/mixing.h"
#include "topology/spectral.h"
#include "topology/topology.h"

namespace grapevine::topology {

struct NodeReport {
  std::string id;     // the node's name in the file
  std::string addr;   // empty: none
  std::string group;  // empty: none
  double slowdown = 1.0;  // the node's slowdown attribute (1: none)
  int degree = 0;     // distinct neighbours (digraph: in ∪ out)
  int in_degree = 0;
  int out_degree = 0;
  std::string state;  // filled by `topo live` ("alive", "suspect", ...); empty: omitted
};

struct DegreeStats {
  int min = 0;
  double mean = 0;
  int max = 0;
};

// A node whose model never reaches another node (digraphs that are not strongly
// connected): `from` cannot reach `to` along the edges.
struct Unreachable {
  std::string from;  // node names
  std::string to;
};

struct Report {
  std::string source;  // file name, or "live HOST:PORT"
  int nodes = 0;
  int edges = 0;
  bool directed = false;
  bool connected = false;  // digraph: strongly connected
  int components = 0;
  DegreeStats degree;
  DegreeStats in_degree;   // digraphs (undirected: equal to degree)
  DegreeStats out_degree;
  std::optional<Unreachable> unreachable;  // digraphs only; null when strongly connected
  std::optional<int> diameter;  // null when disconnected
  bool diameter_exact = true;
  WeightsKind weights = WeightsKind::kMetropolis;
  MixingProperties properties;
  SpectralInfo spectral;
  double epsilon = 1e-3;
  std::vector<NodeReport> node_list;
  std::optional<GroupsReport> groups;  // null when no node has a `group`
  std::vector<Issue> issues;  // Validate() findings, disconnected as a warning
};

struct AnalyzeOptions {
  SpectralOptions spectral;
  int diameter_exact_limit = 20000;
};

// InvalidInput for an empty graph or weights that cannot be built (metropolis on a
// digraph, bad `file` weights); everything else is reported, not refused.
Result<Report> Analyze(const Topology& topology, WeightsKind weights,
                       const AnalyzeOptions& options = {});

}  // namespace grapevine::topology
