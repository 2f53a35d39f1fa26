#include "topology/report.h"

#include <algorithm>
#include <cstdio>

#include "topology/number.h"

namespace grapevine::topology {
namespace {

template <typename T>
nlohmann::json OrNull(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string Fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

// Enough digits to see how close to 1 a slowly mixing graph's ρ is.
std::string Precise(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.6g", value);
  std::string text = buffer;
  if (value > 0.999 && value < 1.0) {
    std::snprintf(buffer, sizeof(buffer), "%.10f", value);
    text = buffer;
  }
  return text;
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

nlohmann::json DegreeJson(const DegreeStats& d) {
  return {{"min", d.min}, {"mean", d.mean}, {"max", d.max}};
}

std::string DegreeText(const DegreeStats& d) {
  return "min " + std::to_string(d.min) + "   mean " + Fixed(d.mean, 2) + "   max " +
         std::to_string(d.max);
}

std::string ConnectedText(const Report& report) {
  if (!report.directed) {
    return std::string(YesNo(report.connected)) + " (" + std::to_string(report.components) +
           " component" + (report.components == 1 ? "" : "s") + ")";
  }
  if (report.connected) return "yes (strongly connected)";
  std::string text = "no (" + std::to_string(report.components) + " strong components";
  if (report.unreachable) {
    text += "; node " + report.unreachable->from + " cannot reach node " + report.unreachable->to;
  }
  return text + ")";
}

// What the weights mean for the average the agents reach.
std::string WeightsNote(const Report& report) {
  if (report.properties.doubly_stochastic) return "";
  if (report.weights == WeightsKind::kPushSum && report.properties.column_stochastic) {
    return "column stochastic: push-sum (--algo sgp) divides by its weight and reaches the "
           "plain average";
  }
  return "not doubly stochastic: agents agree on a weighted, not the plain, average";
}

std::string Pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

nlohmann::json SpectralJson(const SpectralInfo& s) {
  return {{"rho", OrNull(s.rho)},
          {"spectral_gap", OrNull(s.spectral_gap)},
          {"consensus_rounds", OrNull(s.consensus_rounds)}};
}

nlohmann::json GroupsJson(const GroupsReport& g) {
  nlohmann::json list = nlohmann::json::array();
  for (const GroupStats& s : g.groups) {
    nlohmann::json entry = SpectralJson(s.spectral);
    entry["name"] = s.name;
    entry["size"] = s.members.size();
    entry["internal_edges"] = s.internal_edges;
    list.push_back(std::move(entry));
  }
  return {{"weights", WeightsKindName(g.weights)},
          {"list", std::move(list)},
          {"bridge_edges", g.bridge_edges},
          {"inter_links", g.inter_links},
          {"inter", g.inter ? SpectralJson(*g.inter) : nlohmann::json(nullptr)}};
}

std::string RhoText(const SpectralInfo& s) {
  if (!s.rho) return "unknown";
  return Precise(*s.rho);
}

std::string GapText(const SpectralInfo& s) {
  return s.spectral_gap ? Precise(*s.spectral_gap) : "unknown";
}

// The groups section of the text report: per group, then the inter-group graph.
std::string GroupsText(const GroupsReport& g) {
  size_t width = 7;
  for (const GroupStats& s : g.groups) width = std::max(width, s.name.size() + 2);
  std::string out = "\ngroups (" + std::to_string(g.groups.size()) + ", " +
                    WeightsKindName(g.weights) + " weights inside each):\n";
  out += "  " + Pad("group", width) + Pad("size", 6) + Pad("edges", 7) + Pad("rho", 14) + "gap\n";
  for (const GroupStats& s : g.groups) {
    out += "  " + Pad(s.name, width) + Pad(std::to_string(s.members.size()), 6) +
           Pad(std::to_string(s.internal_edges), 7) + Pad(RhoText(s.spectral), 14) +
           GapText(s.spectral) + "\n";
  }
  out += "inter-group " + std::to_string(g.inter_links) + " group link" +
         (g.inter_links == 1 ? "" : "s") + " over " + std::to_string(g.bridge_edges) +
         " bridge edge" + (g.bridge_edges == 1 ? "" : "s");
  if (g.inter) {
    out += "   rho " + RhoText(*g.inter) + "   gap " + GapText(*g.inter) +
           "   (graph of the groups, " + WeightsKindName(g.weights) + ")";
  }
  return out + "\n";
}

}  // namespace

nlohmann::json ReportToJson(const Report& report) {
  using nlohmann::json;
  json j;
  j["source"] = report.source;
  j["nodes"] = report.nodes;
  j["edges"] = report.edges;
  j["directed"] = report.directed;
  j["connected"] = report.connected;
  j["components"] = report.components;
  j["degree"] = DegreeJson(report.degree);
  if (report.directed) {
    j["in_degree"] = DegreeJson(report.in_degree);
    j["out_degree"] = DegreeJson(report.out_degree);
    j["unreachable"] = report.unreachable ? json{{"from", report.unreachable->from},
                                                 {"to", report.unreachable->to}}
                                          : json(nullptr);
    j["metropolis_exists"] = false;  // w_ij = w_ji has no meaning on one-way edges
  }
  j["diameter"] = OrNull(report.diameter);
  j["diameter_exact"] = report.diameter_exact;
  j["weights"] = WeightsKindName(report.weights);
  j["doubly_stochastic"] = report.properties.doubly_stochastic;
  j["weight_properties"] = {
      {"nonnegative", report.properties.nonnegative},
      {"row_stochastic", report.properties.row_stochastic},
      {"column_stochastic", report.properties.column_stochastic},
      {"symmetric", report.properties.symmetric},
      {"max_row_error", report.properties.max_row_error},
      {"max_column_error", report.properties.max_column_error},
  };
  j["rho"] = OrNull(report.spectral.rho);
  j["spectral_gap"] = OrNull(report.spectral.spectral_gap);
  j["consensus_rounds"] = OrNull(report.spectral.consensus_rounds);
  j["epsilon"] = report.epsilon;
  j["lambda2"] = OrNull(report.spectral.lambda2);
  j["lambda_n"] = OrNull(report.spectral.lambda_n);
  j["spectral_method"] = report.spectral.method;
  j["spectral_note"] = report.spectral.note.empty() ? json(nullptr) : json(report.spectral.note);
  json nodes = json::array();
  for (const NodeReport& node : report.node_list) {
    json entry = {{"id", node.id},
                  {"addr", node.addr.empty() ? json(nullptr) : json(node.addr)},
                  {"degree", node.degree}};
    if (!node.group.empty()) entry["group"] = node.group;
    if (node.slowdown != 1.0) entry["slowdown"] = node.slowdown;
    if (report.directed) {
      entry["in_degree"] = node.in_degree;
      entry["out_degree"] = node.out_degree;
    }
    if (!node.state.empty()) entry["state"] = node.state;
    nodes.push_back(std::move(entry));
  }
  j["node_list"] = std::move(nodes);
  j["groups"] = report.groups ? GroupsJson(*report.groups) : json(nullptr);
  json issues = json::array();
  for (const Issue& issue : report.issues) {
    issues.push_back({{"severity", issue.severity == Severity::kError ? "error" : "warning"},
                      {"line", issue.line > 0 ? json(issue.line) : json(nullptr)},
                      {"message", issue.message}});
  }
  j["issues"] = std::move(issues);
  return j;
}

std::string ReportToText(const Report& report, int max_nodes_listed) {
  std::string out;
  auto line = [&out](const std::string& label, const std::string& value) {
    out += Pad(label, 12) + value + "\n";
  };
  line("topology", (report.source.empty() ? std::string("(generated)") : report.source) +
                       (report.directed ? "  (directed)" : "  (undirected)"));
  line("nodes", std::to_string(report.nodes) + "   edges " + std::to_string(report.edges));
  line("connected", ConnectedText(report));
  line("degree", DegreeText(report.degree) + (report.directed ? "   (in ∪ out)" : ""));
  if (report.directed) {
    line("in-degree", DegreeText(report.in_degree));
    line("out-degree", DegreeText(report.out_degree));
  }
  line("diameter", report.diameter ? std::to_string(*report.diameter) +
                                         (report.diameter_exact ? "" : " (lower bound)")
                                   : "none (disconnected)");
  const MixingProperties& p = report.properties;
  line("weights", std::string(WeightsKindName(report.weights)) + ": row-stochastic " +
                      YesNo(p.row_stochastic) + ", column-stochastic " +
                      YesNo(p.column_stochastic) + ", symmetric " + YesNo(p.symmetric) +
                      ", doubly stochastic " + YesNo(p.doubly_stochastic));
  if (std::string note = WeightsNote(report); !note.empty()) line("", note);
  if (report.directed) {
    line("metropolis", "does not exist for a digraph (it needs w_ij = w_ji); --algo sgp "
                       "uses push-sum");
  }
  const SpectralInfo& s = report.spectral;
  const char* which = report.directed ? "second largest |λ| of W; " : "max |λ2|, |λn| of W; ";
  line("rho", s.rho ? Precise(*s.rho) + "   (" + which + s.method + ")"
                    : "unknown (" + s.note + ")");
  line("gap", s.spectral_gap ? Precise(*s.spectral_gap) : "unknown");
  char eps[32];
  std::snprintf(eps, sizeof(eps), "%g", report.epsilon);
  line("rounds", s.consensus_rounds
                     ? std::to_string(*s.consensus_rounds) + "   (gossip rounds to shrink "
                                                             "disagreement by " + eps + ")"
                     : std::string("none (") +
                           (report.connected ? "rho >= 1"
                                             : report.directed ? "not strongly connected"
                                                               : "disconnected") +
                           ")");
  out += "\nnode list:\n";
  bool any_group = false;
  for (const NodeReport& n : report.node_list) any_group |= !n.group.empty();
  bool any_state = false;
  for (const NodeReport& n : report.node_list) any_state |= !n.state.empty();
  bool any_slowdown = false;
  for (const NodeReport& n : report.node_list) any_slowdown |= n.slowdown != 1.0;
  size_t id_width = 4;
  for (const NodeReport& n : report.node_list) id_width = std::max(id_width, n.id.size() + 2);
  std::string header = "  " + Pad("id", id_width) + Pad(report.directed ? "in/out" : "degree", 8) +
                       Pad("addr", 24);
  if (any_group) header += Pad("group", 12);
  if (any_slowdown) header += Pad("slowdown", 10);
  if (any_state) header += "state";
  while (!header.empty() && header.back() == ' ') header.pop_back();
  out += header + "\n";
  int listed = 0;
  for (const NodeReport& n : report.node_list) {
    if (listed++ >= max_nodes_listed) break;
    std::string degree = report.directed
                             ? std::to_string(n.in_degree) + "/" + std::to_string(n.out_degree)
                             : std::to_string(n.degree);
    std::string row = "  " + Pad(n.id, id_width) + Pad(degree, 8) +
                      Pad(n.addr.empty() ? "-" : n.addr, 24);
    if (any_group) row += Pad(n.group.empty() ? "-" : n.group, 12);
    if (any_slowdown) row += Pad(FormatDouble(n.slowdown), 10);
    if (any_state) row += n.state;
    while (!row.empty() && row.back() == ' ') row.pop_back();
    out += row + "\n";
  }
  if (static_cast<int>(report.node_list.size()) > max_nodes_listed) {
    out += "  ... " + std::to_string(report.node_list.size() - static_cast<size_t>(max_nodes_listed)) +
           " more (use --json for all)\n";
  }
  if (report.groups) out += GroupsText(*report.groups);
  if (!report.issues.empty()) {
    out += "\nproblems:\n";
    for (const Issue& issue : report.issues) out += "  " + FormatIssue(report.source, issue) + "\n";
  }
  return out;
}

}  // namespace grapevine::topology
