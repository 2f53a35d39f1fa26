#include "topology/analyze.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <utility>

#include "topology/graph_metrics.h"
#include "topology/validate.h"

namespace grapevine::topology {
namespace {

struct DegreeTally {
  int min = std::numeric_limits<int>::max();
  int max = 0;
  long long sum = 0;
  int count = 0;
  void Add(int d) {
    min = std::min(min, d);
    max = std::max(max, d);
    sum += d;
    ++count;
  }
  DegreeStats Stats() const {
    return {count ? min : 0, count ? static_cast<double>(sum) / count : 0.0, max};
  }
};

}  // namespace

Result<Report> Analyze(const Topology& topology, WeightsKind weights,
                       const AnalyzeOptions& options) {
  if (topology.num_nodes() == 0) {
    return Status::Invalid((topology.source().empty() ? "" : topology.source() + ": ") +
                           "empty graph: no nodes");
  }
  GV_ASSIGN_OR_RETURN(MixingMatrix mixing, MixingWeights(topology, weights));

  Report report;
  report.source = topology.source();
  report.nodes = topology.num_nodes();
  report.edges = topology.num_edges();
  report.directed = topology.directed();
  ComponentInfo components = Components(topology);
  report.components = components.count;
  report.connected = components.count == 1;

  if (topology.directed()) {
    if (std::optional<std::pair<int, int>> stuck = FindUnreachable(topology)) {
      report.unreachable =
          Unreachable{topology.node(stuck->first).name, topology.node(stuck->second).name};
    }
  }

  DegreeTally degree, in_degree, out_degree;
  for (int i = 0; i < topology.num_nodes(); ++i) {
    const Node& node = topology.node(i);
    NodeReport entry;
    entry.id = node.name;
    entry.addr = node.addr;
    entry.group = node.group;
    entry.slowdown = node.slowdown;
    entry.degree = topology.Degree(i);
    entry.in_degree = static_cast<int>(topology.InNeighbors(i).size());
    entry.out_degree = static_cast<int>(topology.OutNeighbors(i).size());
    degree.Add(entry.degree);
    in_degree.Add(entry.in_degree);
    out_degree.Add(entry.out_degree);
    report.node_list.push_back(std::move(entry));
  }
  report.degree = degree.Stats();
  report.in_degree = in_degree.Stats();
  report.out_degree = out_degree.Stats();

  DiameterInfo diameter = Diameter(topology, options.diameter_exact_limit);
  report.diameter = diameter.value;
  report.diameter_exact = diameter.exact;

  report.weights = weights;
  report.properties = mixing.properties;
  report.epsilon = options.spectral.epsilon;
  report.spectral = AnalyzeSpectrum(mixing, report.connected, options.spectral);
  report.groups = AnalyzeGroups(topology, weights, options.spectral);
  report.issues = Validate(topology, ValidateOptions{weights, /*disconnected_is_error=*/false});
  return report;
}

}  // namespace grapevine::topology
