#include "tools/report_topology.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>

#include "tools/svg_plot.h"
#include "tools/topo_render.h"
#include "topology/dot.h"
#include "topology/load.h"

namespace grapevine::tools {
namespace {

constexpr int kLegendSteps = 6;

std::string NodeAccuracy(double a) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.4f", a);
  return buf;
}

std::string Legend(const AccuracyScale& scale) {
  std::string cells;
  for (int i = 0; i < kLegendSteps; ++i) {
    double a = scale.lo + (scale.hi - scale.lo) * i / (kLegendSteps - 1);
    std::string text = NodeAccuracy(a);
    if (scale.LightText(a)) text = "<font color=\"white\">" + text + "</font>";
    cells += "<td bgcolor=\"" + scale.Color(a) + "\" width=\"56\">" + text + "</td>";
  }
  return "<<table border=\"0\" cellborder=\"0\" cellspacing=\"0\" cellpadding=\"5\">"
         "<tr><td colspan=\"" + std::to_string(kLegendSteps) +
         "\">final test accuracy (grey: no evaluation)</td></tr><tr>" + cells + "</tr></table>>";
}

}  // namespace

double AccuracyScale::T(double accuracy) const {
  if (!(hi - lo > 1e-12)) return 0.75;
  return std::clamp((accuracy - lo) / (hi - lo), 0.0, 1.0);
}

std::string AccuracyScale::Color(double accuracy) const { return ScaleColor(T(accuracy)); }

bool AccuracyScale::LightText(double accuracy) const { return ScaleNeedsLightText(T(accuracy)); }

std::string AccuracyColoredDot(const topology::Topology& t,
                               const std::map<std::string, double>& final_accuracy,
                               const AccuracyScale& scale) {
  using topology::DotId;
  const bool directed = t.directed();
  std::string out = std::string(directed ? "digraph" : "graph") + " run {\n";
  out += "  graph [overlap=false, splines=true, sep=\"+12\", pad=0.3, fontname=\"Helvetica\", "
         "fontsize=11, labelloc=b, label=" + Legend(scale) + "];\n";
  out += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, "
         "penwidth=0.8, color=\"#444444\"];\n";
  out += "  edge [color=\"#888888\", penwidth=1.2];\n";
  for (int i = 0; i < t.num_nodes(); ++i) {
    const topology::Node& node = t.node(i);
    std::string label = node.name;
    if (!node.addr.empty()) label += "\\n" + node.addr;
    auto it = final_accuracy.find(node.name);
    std::string attrs;
    if (it != final_accuracy.end()) {
      label += "\\nacc " + NodeAccuracy(it->second);
      attrs = "fillcolor=\"" + scale.Color(it->second) + "\", fontcolor=\"" +
              (scale.LightText(it->second) ? "#ffffff" : "#111111") + "\"";
    } else {
      label += "\\nacc n/a";
      attrs = "fillcolor=\"#d9d9d9\", fontcolor=\"#111111\"";
    }
    out += "  " + DotId(node.name) + " [label=" + DotId(label) + ", " + attrs + "];\n";
  }
  const char* op = directed ? " -> " : " -- ";
  for (int u = 0; u < t.num_nodes(); ++u) {
    for (int v : t.OutNeighbors(u)) {
      if (!directed && v < u) continue;
      out += "  " + DotId(t.node(u).name) + op + DotId(t.node(v).name) + ";\n";
    }
  }
  out += "}\n";
  return out;
}

Result<TopologyPicture> WriteTopologyPicture(const std::string& dir,
                                             const std::string& topology_dot_path,
                                             const std::map<std::string, double>& final_accuracy,
                                             const AccuracyScale& scale) {
  TopologyPicture picture;
  if (topology_dot_path.empty()) {
    picture.note = "no topology file was given, so there is no topology picture";
    return picture;
  }
  auto topo = topology::LoadTopology(topology_dot_path);
  if (!topo.ok()) {
    picture.note = "cannot read the topology: " + topo.status().message();
    return picture;
  }
  const std::string dot = AccuracyColoredDot(*topo, final_accuracy, scale);
  const std::string engine = topo->directed() ? "dot" : "neato";
  if (!FindOnPath(engine)) {
    picture.file = "topology-colored.dot";
    std::ofstream out(dir + "/" + picture.file, std::ios::binary | std::ios::trunc);
    out << dot;
    out.close();
    if (!out) return Status::IoError(dir + "/" + picture.file + ": cannot write");
    picture.note = "Graphviz (`" + engine + "`) is not installed, so topology.svg was not drawn. "
                   "Install it (Debian/Ubuntu: sudo apt-get install graphviz) and run: " +
                   engine + " -Tsvg topology-colored.dot -o topology.svg";
    return picture;
  }
  Status rendered = RenderToFile(dot, dir + "/topology.svg", topo->directed());
  if (rendered.code() == StatusCode::kIoError) return rendered;
  if (!rendered.ok()) {
    picture.note = "Graphviz could not draw the topology: " + rendered.message();
    return picture;
  }
  picture.file = "topology.svg";
  return picture;
}

}  // namespace grapevine::tools
