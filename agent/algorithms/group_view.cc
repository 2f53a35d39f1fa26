#include "agent/algorithms/group_view.h"

#include <algorithm>
#include <set>

#include "topology/mixing.h"

namespace grapevine::agent::algorithms {

GroupView GroupView::Compute(const std::map<proto::NodeId, std::string>& named,
                             const std::vector<proto::MemberRecord>& live,
                             const std::vector<proto::Edge>& edges) {
  GroupView v;
  std::map<proto::NodeId, uint64_t> alive;  // id → incarnation
  for (const proto::MemberRecord& r : live) alive[r.id] = r.incarnation;
  std::map<proto::NodeId, std::set<proto::NodeId>> adjacent;
  for (const proto::Edge& e : edges) {
    if (alive.count(e.a) == 0 || alive.count(e.b) == 0 || e.a == e.b) continue;
    adjacent[e.a].insert(e.b);
    adjacent[e.b].insert(e.a);
  }
  for (const auto& [id, incarnation] : alive) {
    auto it = named.find(id);
    if (it != named.end()) {
      v.group_[id] = it->second;
      auto [leader, fresh] = v.leaders_.try_emplace(it->second, id);
      const auto rank = [&](proto::NodeId n) { return std::make_pair(alive.at(n), n); };
      if (!fresh && rank(id) < rank(leader->second)) leader->second = id;
    }
  }
  // Joiners: the group of their lowest-id named neighbour (sets iterate in id order).
  for (const auto& [id, incarnation] : alive) {
    if (named.count(id) > 0) continue;
    std::string group = "\x01" + std::to_string(id);  // alone: no file name starts so
    for (proto::NodeId n : adjacent[id]) {
      auto it = named.find(n);
      if (it != named.end()) {
        group = it->second;
        break;
      }
    }
    if (group[0] == '\x01') ++v.leaderless_;
    v.group_[id] = group;
  }
  // The leader graph: groups joined by a live edge.
  std::set<std::pair<proto::NodeId, proto::NodeId>> links;
  for (const auto& [a, ns] : adjacent) {
    for (proto::NodeId b : ns) {
      auto la = v.LeaderOf(a), lb = v.LeaderOf(b);
      if (!la || !lb || *la == *lb) continue;
      links.emplace(std::min(*la, *lb), std::max(*la, *lb));
    }
  }
  for (const auto& [a, b] : links) v.leader_edges_.push_back({a, b});
  return v;
}

std::optional<std::string> GroupView::GroupOf(proto::NodeId id) const {
  auto it = group_.find(id);
  if (it == group_.end()) return std::nullopt;
  return it->second;
}

std::optional<proto::NodeId> GroupView::LeaderOf(proto::NodeId id) const {
  auto g = group_.find(id);
  if (g == group_.end()) return std::nullopt;
  auto l = leaders_.find(g->second);
  if (l == leaders_.end()) return std::nullopt;
  return l->second;
}

std::vector<proto::NodeId> GroupView::Followers(proto::NodeId id) const {
  std::vector<proto::NodeId> out;
  auto g = group_.find(id);
  if (g == group_.end()) return out;
  for (const auto& [other, group] : group_) {
    if (other != id && group == g->second) out.push_back(other);
  }
  return out;
}

std::vector<std::pair<proto::NodeId, double>> GroupView::LeaderRow(proto::NodeId leader) const {
  std::vector<std::pair<proto::NodeId, double>> row;
  if (LeaderOf(leader) != leader) return row;
  std::map<proto::NodeId, size_t> degree;
  for (const proto::Edge& e : leader_edges_) {
    ++degree[e.a];
    ++degree[e.b];
  }
  for (const proto::Edge& e : leader_edges_) {
    if (e.a != leader && e.b != leader) continue;
    const proto::NodeId other = e.a == leader ? e.b : e.a;
    row.emplace_back(other, topology::MetropolisWeight(degree[leader], degree[other]));
  }
  return row;
}

}  // namespace grapevine::agent::algorithms
