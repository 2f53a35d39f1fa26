#include "topology/validate.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <unordered_map>

#include "topology/addr.h"
#include "topology/graph_metrics.h"
#include "topology/groups.h"
#include "topology/number.h"

namespace grapevine::topology {
namespace {

constexpr int kMaxListed = 10;  // per repetitive warning, before a summary line

std::string EdgeText(const Topology& t, const Edge& e) {
  return t.node(e.u).name + (t.directed() ? " -> " : " -- ") + t.node(e.v).name;
}

void CheckEdges(const Topology& t, std::vector<Issue>* issues) {
  std::unordered_map<uint64_t, int> first_line;
  for (const Edge& e : t.edges()) {
    if (e.u == e.v) {
      issues->push_back({Severity::kError, e.line,
                         "self-loop on node " + t.node(e.u).name +
                             " (a node always mixes its own model; remove the edge)"});
      continue;
    }
    int a = t.directed() ? e.u : std::min(e.u, e.v);
    int b = t.directed() ? e.v : std::max(e.u, e.v);
    uint64_t key = (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
    auto [it, inserted] = first_line.emplace(key, e.line);
    if (!inserted) {
      std::string first = it->second > 0 ? " (first at line " + std::to_string(it->second) + ")" : "";
      issues->push_back({Severity::kError, e.line, "duplicate edge " + EdgeText(t, e) + first});
    }
    if (e.weight && *e.weight < 0) {
      issues->push_back({Severity::kError, e.line,
                         "negative weight " + FormatDouble(*e.weight) + " on edge " + EdgeText(t, e)});
    }
  }
}

void CheckAddrs(const Topology& t, std::vector<Issue>* issues) {
  std::map<std::string, int> owner;
  std::vector<int> missing;
  for (int i = 0; i < t.num_nodes(); ++i) {
    const Node& node = t.node(i);
    if (IsAutoAddr(node.addr)) {
      missing.push_back(i);
      continue;
    }
    Result<HostPort> parsed = ParseAddr(node.addr);
    if (!parsed.ok()) {
      issues->push_back({Severity::kError, node.line,
                         "node " + node.name + ": malformed addr " + parsed.status().message()});
      continue;
    }
    // Normalise so "localhost:1" and "localhost:01" collide.
    std::string key = parsed->host + ":" + std::to_string(parsed->port);
    auto [it, inserted] = owner.emplace(key, i);
    if (!inserted) {
      issues->push_back({Severity::kError, node.line,
                         "duplicate addr " + node.addr + ": nodes " + t.node(it->second).name +
                             " and " + node.name + " cannot both listen there"});
    }
  }
  if (missing.empty()) return;
  if (static_cast<int>(missing.size()) == t.num_nodes()) {
    issues->push_back({Severity::kWarning, 0,
                       "no node has an addr: fine for analysis, and `grapevine agent "
                       "--base-port P` under srun computes them from the allocation; "
                       "otherwise give addr=HOST:PORT on every node"});
    return;
  }
  for (size_t k = 0; k < missing.size() && k < kMaxListed; ++k) {
    const Node& node = t.node(missing[k]);
    issues->push_back({Severity::kWarning, node.line, "node " + node.name + " has no addr (only `grapevine agent --base-port` "
                       "can run it)"});
  }
  if (missing.size() > kMaxListed) {
    issues->push_back({Severity::kWarning, 0,
                       std::to_string(missing.size() - kMaxListed) + " more nodes have no addr"});
  }
}

void CheckConnectivity(const Topology& t, bool is_error, std::vector<Issue>* issues) {
  ComponentInfo components = Components(t);
  if (components.count <= 1) return;
  const Severity severity = is_error ? Severity::kError : Severity::kWarning;
  if (t.directed()) {
    // Name the direction that is missing; the line is where the stuck node is declared.
    std::optional<std::pair<int, int>> stuck = FindUnreachable(t);
    GV_CHECK(stuck.has_value());
    const Node& from = t.node(stuck->first);
    issues->push_back({severity, from.line,
                       "graph is not strongly connected (" + std::to_string(components.count) +
                           " strong components): node " + from.name + " cannot reach node " +
                           t.node(stuck->second).name + ", so " + t.node(stuck->second).name +
                           " never receives " + from.name +
                           "'s model: the agents never agree"});
    return;
  }
  // Name one node from each of the first two components so the user can look.
  int a = 0;
  int b = -1;
  for (int i = 0; i < t.num_nodes() && b < 0; ++i) {
    if (components.component_of[static_cast<size_t>(i)] != components.component_of[0]) b = i;
  }
  std::string message = "graph is disconnected: " + std::to_string(components.count) +
                        " components (e.g. node " + t.node(a).name + " and node " +
                        t.node(b).name + " are not linked); agents in different components "
                        "never agree";
  issues->push_back({severity, 0, message});
}

}  // namespace

std::vector<Issue> Validate(const Topology& topology, const ValidateOptions& options) {
  std::vector<Issue> issues;
  if (topology.num_nodes() == 0) {
    issues.push_back({Severity::kError, 0, "empty graph: no nodes"});
    return issues;
  }
  CheckEdges(topology, &issues);
  CheckAddrs(topology, &issues);
  CheckConnectivity(topology, options.disconnected_is_error, &issues);
  std::vector<Issue> groups = ValidateGroups(topology);
  issues.insert(issues.end(), groups.begin(), groups.end());
  (void)MixingWeights(topology, options.weights, &issues);
  std::stable_sort(issues.begin(), issues.end(), [](const Issue& x, const Issue& y) {
    // Line-numbered problems in file order first, then whole-graph ones.
    int lx = x.line > 0 ? x.line : 1 << 30;
    int ly = y.line > 0 ? y.line : 1 << 30;
    return lx < ly;
  });
  return issues;
}

}  // namespace grapevine::topology
