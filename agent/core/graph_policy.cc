#include "agent/core/graph_policy.h"

#include <algorithm>
#include <set>
#include <tuple>

namespace grapevine::agent::core {
namespace {

// Sorts candidates by (at_or_above_max, in_own_component, live degree, id).
void SortCandidates(const MemberTable& table, const std::set<NodeId>& own_component,
                    int max_degree, std::vector<NodeId>& candidates) {
  auto key = [&](NodeId n) {
    const std::size_t degree = table.LiveDegree(n);
    return std::make_tuple(degree >= static_cast<std::size_t>(max_degree),
                           own_component.count(n) != 0, degree, n);
  };
  std::sort(candidates.begin(), candidates.end(),
            [&](NodeId x, NodeId y) { return key(x) < key(y); });
}

}  // namespace

NodeId NextJoinId(const MemberTable& table, NodeId admitter) {
  const NodeId max = table.MaxId();
  if (max == proto::kNoNode) return 0;
  const std::vector<NodeId> live = table.LiveIds();  // sorted
  const auto it = std::lower_bound(live.begin(), live.end(), admitter);
  const NodeId rank =
      it != live.end() && *it == admitter ? static_cast<NodeId>(it - live.begin()) : 0;
  return max + 1 + rank;
}

std::vector<NodeId> PickAttachPoints(const MemberTable& table, int k, int max_degree) {
  std::vector<NodeId> candidates;
  for (NodeId n : table.LiveIds()) {
    if (table.IsAlive(n)) candidates.push_back(n);
  }
  SortCandidates(table, {}, max_degree, candidates);
  if (k >= 0 && candidates.size() > static_cast<std::size_t>(k)) candidates.resize(k);
  return candidates;
}

std::vector<NodeId> PickRepairTargets(const MemberTable& table, NodeId self, int min_degree,
                                      int max_degree) {
  // Restore at most the degree the node had: a star's leaf is not "repaired" into a
  // mesh, but a ring node that lost a neighbour gets a replacement.
  const std::size_t degree = table.LiveDegree(self);
  const std::size_t target =
      std::min(static_cast<std::size_t>(std::max(min_degree, 0)), table.Degree(self));
  if (!table.IsAlive(self) || degree >= target) return {};
  std::set<NodeId> own;
  for (const auto& component : table.LiveComponents()) {
    if (std::binary_search(component.begin(), component.end(), self)) {
      own.insert(component.begin(), component.end());
    }
  }
  std::vector<NodeId> candidates;
  for (NodeId n : table.LiveIds()) {
    if (n != self && table.IsAlive(n) && !table.HasEdge(self, n)) candidates.push_back(n);
  }
  SortCandidates(table, own, max_degree, candidates);
  const std::size_t need = target - degree;
  if (candidates.size() > need) candidates.resize(need);
  return candidates;
}

std::vector<Edge> PickBridges(const MemberTable& table, NodeId self) {
  const auto components = table.LiveComponents();
  if (components.size() < 2 || components.front().front() != self) return {};
  std::vector<Edge> bridges;
  for (std::size_t c = 1; c < components.size(); ++c) {
    std::vector<NodeId> candidates = components[c];
    SortCandidates(table, {}, /*max_degree=*/1 << 30, candidates);
    bridges.push_back(MakeEdge(self, candidates.front()));
  }
  return bridges;
}

}  // namespace grapevine::agent::core
