#include "topology/analyze.h"

#include <algorithm>
#include <limits>

#include "topology/graph_metrics.h"
#include "topology/validate.h"

namespace grapevine::topology {

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

  report.degree.min = std::numeric_limits<int>::max();
  long long degree_sum = 0;
  for (int i = 0; i < topology.num_nodes(); ++i) {
    const Node& node = topology.node(i);
    NodeReport entry;
    entry.id = node.name;
    entry.addr = node.addr;
    entry.group = node.group;
    entry.degree = topology.Degree(i);
    entry.in_degree = static_cast<int>(topology.InNeighbors(i).size());
    entry.out_degree = static_cast<int>(topology.OutNeighbors(i).size());
    report.degree.min = std::min(report.degree.min, entry.degree);
    report.degree.max = std::max(report.degree.max, entry.degree);
    degree_sum += entry.degree;
    report.node_list.push_back(std::move(entry));
  }
  report.degree.mean = static_cast<double>(degree_sum) / topology.num_nodes();

  DiameterInfo diameter = Diameter(topology, options.diameter_exact_limit);
  report.diameter = diameter.value;
  report.diameter_exact = diameter.exact;

  report.weights = weights;
  report.properties = mixing.properties;
  report.epsilon = options.spectral.epsilon;
  report.spectral = AnalyzeSpectrum(mixing, report.connected, options.spectral);
  report.issues = Validate(topology, ValidateOptions{weights, /*disconnected_is_error=*/false});
  return report;
}

}  // namespace grapevine::topology
