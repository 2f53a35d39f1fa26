#include "topology/groups.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "topology/graph_metrics.h"

namespace grapevine::topology {
namespace {

constexpr int kMaxUngroupedListed = 10;

// Group name → members, in the order of each group's first node.
std::vector<std::pair<std::string, std::vector<int>>> GroupMembers(const Topology& t) {
  std::vector<std::pair<std::string, std::vector<int>>> out;
  std::map<std::string, size_t> index;
  for (int i = 0; i < t.num_nodes(); ++i) {
    const std::string& g = t.node(i).group;
    if (g.empty()) continue;
    auto [it, fresh] = index.emplace(g, out.size());
    if (fresh) out.push_back({g, {}});
    out[it->second].second.push_back(i);
  }
  return out;
}

WeightsKind PartWeights(const Topology& part, WeightsKind whole) {
  if (whole == WeightsKind::kFile) return DefaultWeightsKind(part);
  if (whole == WeightsKind::kMetropolis && part.directed()) return WeightsKind::kPushSum;
  return whole;
}

SpectralInfo Spectrum(const Topology& part, WeightsKind kind, const SpectralOptions& options) {
  Result<MixingMatrix> w = MixingWeights(part, kind);
  if (!w.ok()) {
    SpectralInfo info;
    info.note = w.status().message();
    return info;
  }
  return AnalyzeSpectrum(*w, IsConnected(part), options);
}

}  // namespace

bool HasGroups(const Topology& topology) {
  return std::any_of(topology.nodes().begin(), topology.nodes().end(),
                     [](const Node& n) { return !n.group.empty(); });
}

Topology InducedSubgraph(const Topology& topology, const std::vector<int>& members) {
  Topology part(topology.directed());
  part.set_source(topology.source());
  std::map<int, int> local;
  for (int i : members) {
    const Node& n = topology.node(i);
    const int k = part.FindOrAddNode(n.name, n.line);
    part.mutable_node(k).addr = n.addr;
    part.mutable_node(k).group = n.group;
    local[i] = k;
  }
  std::set<std::pair<int, int>> seen;
  for (const Edge& e : topology.edges()) {
    auto u = local.find(e.u), v = local.find(e.v);
    if (u == local.end() || v == local.end() || e.u == e.v) continue;
    std::pair<int, int> key{u->second, v->second};
    if (!topology.directed() && key.first > key.second) std::swap(key.first, key.second);
    if (!seen.insert(key).second) continue;
    part.AddEdge(u->second, v->second, e.weight, e.line);
  }
  return part;
}

std::vector<Issue> ValidateGroups(const Topology& t) {
  std::vector<Issue> issues;
  if (!HasGroups(t)) return issues;
  std::vector<int> missing;
  for (int i = 0; i < t.num_nodes(); ++i) {
    if (t.node(i).group.empty()) missing.push_back(i);
  }
  const int with = t.num_nodes() - static_cast<int>(missing.size());
  for (size_t k = 0; k < missing.size() && k < kMaxUngroupedListed; ++k) {
    const Node& n = t.node(missing[k]);
    issues.push_back({Severity::kError, n.line,
                      "node " + n.name + " has no group, but " + std::to_string(with) +
                          " node" + (with == 1 ? "" : "s") +
                          " have one: give every node a group, or none"});
  }
  if (missing.size() > kMaxUngroupedListed) {
    issues.push_back({Severity::kError, 0,
                      std::to_string(missing.size() - kMaxUngroupedListed) + " more nodes have no group"});
  }
  const auto groups = GroupMembers(t);
  for (const auto& [name, members] : groups) {
    Topology part = InducedSubgraph(t, members);
    ComponentInfo c = Components(part);
    if (c.count <= 1) continue;
    int other = 0;
    while (c.component_of[static_cast<size_t>(other)] == c.component_of[0]) ++other;
    const Node& a = part.node(0);
    const Node& b = part.node(other);
    issues.push_back({Severity::kError, b.line,
                      "group " + name + " is not connected inside: its " +
                          std::to_string(members.size()) + " nodes form " +
                          std::to_string(c.count) + (t.directed() ? " strong" : "") +
                          " components (node " + a.name + " and node " + b.name +
                          " are not linked within the group); a group must be able to "
                          "average by itself"});
  }
  if (groups.size() >= 2) {
    const bool bridged = std::any_of(t.edges().begin(), t.edges().end(), [&](const Edge& e) {
      const std::string& gu = t.node(e.u).group;
      const std::string& gv = t.node(e.v).group;
      return !gu.empty() && !gv.empty() && gu != gv;
    });
    if (!bridged) {
      issues.push_back({Severity::kError, 0,
                        std::to_string(groups.size()) +
                            " groups but no edge between two groups: the groups never "
                            "exchange; add at least one bridge edge"});
    }
  }
  return issues;
}

std::optional<GroupsReport> AnalyzeGroups(const Topology& t, WeightsKind weights,
                                          const SpectralOptions& options) {
  if (!HasGroups(t)) return std::nullopt;
  GroupsReport report;
  report.weights = PartWeights(t, weights);
  const auto groups = GroupMembers(t);
  std::map<std::string, int> index;
  Topology inter(t.directed());
  for (const auto& [name, members] : groups) {
    index[name] = inter.FindOrAddNode(name);
    Topology part = InducedSubgraph(t, members);
    GroupStats stats;
    stats.name = name;
    stats.members = members;
    stats.internal_edges = part.num_edges();
    stats.spectral = Spectrum(part, PartWeights(part, weights), options);
    report.groups.push_back(std::move(stats));
  }
  std::set<std::pair<int, int>> links;
  for (const Edge& e : t.edges()) {
    const std::string& gu = t.node(e.u).group;
    const std::string& gv = t.node(e.v).group;
    if (gu.empty() || gv.empty() || gu == gv) continue;
    ++report.bridge_edges;
    const int a = index[gu], b = index[gv];
    std::pair<int, int> key{a, b};
    if (!t.directed() && a > b) key = {b, a};
    if (links.insert(key).second) inter.AddEdge(key.first, key.second);
  }
  report.inter_links = static_cast<int>(links.size());
  if (groups.size() >= 2) {
    report.inter = Spectrum(inter, PartWeights(inter, weights), options);
  }
  return report;
}

}  // namespace grapevine::topology
