// topology.svg for a run report: the run's graph with every node filled by its final
// test accuracy (a colour scale from the lowest to the highest final accuracy of the
// run, with a legend), labelled "name / addr / accuracy". Laid out by Graphviz
// (`neato` for graphs, `dot` for digraphs) when it is on PATH; otherwise the coloured
// DOT is written to topology-colored.dot and the note says how to render it.
//
// Thread-safety: WriteTopologyPicture runs a child process; call from one thread.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "topology/topology.h"

namespace grapevine::tools {

// Maps accuracies in [lo, hi] onto [0, 1] for ScaleColor (svg_plot.h). A run where
// every agent ends equal gets the middle-upper colour.
struct AccuracyScale {
  double lo = 0;
  double hi = 1;
  double T(double accuracy) const;
  std::string Color(double accuracy) const;
  bool LightText(double accuracy) const;
};

// The coloured DOT document. Nodes missing from `final_accuracy` are grey ("n/a").
std::string AccuracyColoredDot(const topology::Topology& topology,
                               const std::map<std::string, double>& final_accuracy,
                               const AccuracyScale& scale);

struct TopologyPicture {
  std::string file;  // written, relative to the report folder; empty when none
  std::string note;  // for the report when something is missing; empty when all is well
};

// Reads `topology_dot_path` and writes DIR/topology.svg (or DIR/topology-colored.dot).
// A missing or unreadable topology is a note, not an error; failing to write is.
Result<TopologyPicture> WriteTopologyPicture(const std::string& dir,
                                             const std::string& topology_dot_path,
                                             const std::map<std::string, double>& final_accuracy,
                                             const AccuracyScale& scale);

}  // namespace grapevine::tools
