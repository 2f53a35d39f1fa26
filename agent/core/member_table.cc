#include "agent/core/member_table.h"

#include <algorithm>
#include <functional>

#include "base/check.h"

namespace grapevine::agent::core {

int StateRank(MemberState s) {
  switch (s) {
    case MemberState::kAlive: return 0;
    case MemberState::kSuspect: return 1;
    case MemberState::kDead: return 2;
    case MemberState::kLeft: return 3;
  }
  return 0;
}

const char* MemberStateName(MemberState s) {
  switch (s) {
    case MemberState::kAlive: return "alive";
    case MemberState::kSuspect: return "suspect";
    case MemberState::kDead: return "dead";
    case MemberState::kLeft: return "left";
  }
  return "?";
}

Edge MakeEdge(NodeId x, NodeId y) {
  GV_CHECK(x != y);
  return x < y ? Edge{x, y} : Edge{y, x};
}

MemberTable::ApplyResult MemberTable::Apply(const MemberRecord& record, TimePoint now) {
  ApplyResult result;
  if (record.id == proto::kNoNode) return result;
  auto it = members_.find(record.id);
  if (it == members_.end()) {
    members_.emplace(record.id, Entry{record, now});
    result.outcome = Outcome::kAdded;
    result.old_state = record.state;
    return result;
  }
  MemberRecord& local = it->second.record;
  result.old_state = local.state;
  if (!local.addr.empty() && !record.addr.empty() && local.addr != record.addr) {
    if (record.addr < local.addr) {
      result.old_addr = local.addr;
      it->second = Entry{record, now};
      result.outcome = Outcome::kReplaced;
    }
    return result;
  }
  if (local.state == MemberState::kLeft) return result;
  const bool newer = record.incarnation > local.incarnation;
  const bool worse = record.incarnation == local.incarnation &&
                     StateRank(record.state) > StateRank(local.state);
  const bool left = record.state == MemberState::kLeft;  // authoritative and final
  if (newer || worse || left) {
    // A new state, or the same state at a new incarnation (a fresh suspicion), restarts
    // the clock that the suspicion timeout is measured against.
    if (record.state != local.state || record.incarnation != local.incarnation) {
      it->second.since = now;
    }
    local.state = record.state;
    local.incarnation = std::max(local.incarnation, record.incarnation);
    if (local.addr.empty()) local.addr = record.addr;
    result.outcome = Outcome::kChanged;
    return result;
  }
  if (local.addr.empty() && !record.addr.empty()) {
    local.addr = record.addr;
    result.outcome = Outcome::kAddrOnly;
  }
  return result;
}

void MemberTable::Set(const MemberRecord& record, TimePoint now) {
  auto it = members_.find(record.id);
  if (it == members_.end() || it->second.record.state != record.state) {
    members_[record.id] = Entry{record, now};
  } else {
    it->second.record = record;
  }
}

const MemberRecord* MemberTable::Find(NodeId id) const {
  auto it = members_.find(id);
  return it == members_.end() ? nullptr : &it->second.record;
}

TimePoint MemberTable::StateSince(NodeId id) const {
  auto it = members_.find(id);
  GV_CHECK(it != members_.end());
  return it->second.since;
}

std::vector<MemberRecord> MemberTable::Records() const {
  std::vector<MemberRecord> out;
  out.reserve(members_.size());
  for (const auto& [id, entry] : members_) out.push_back(entry.record);
  return out;
}

NodeId MemberTable::MaxId() const {
  return members_.empty() ? proto::kNoNode : members_.rbegin()->first;
}

bool MemberTable::IsLive(NodeId id) const {
  const MemberRecord* r = Find(id);
  return r != nullptr && IsLiveState(r->state);
}

bool MemberTable::IsAlive(NodeId id) const {
  const MemberRecord* r = Find(id);
  return r != nullptr && r->state == MemberState::kAlive;
}

std::vector<NodeId> MemberTable::LiveIds() const {
  std::vector<NodeId> out;
  for (const auto& [id, entry] : members_) {
    if (IsLiveState(entry.record.state)) out.push_back(id);
  }
  return out;
}

std::size_t MemberTable::LiveCount() const { return LiveIds().size(); }

bool MemberTable::AddEdge(const Edge& e) {
  GV_CHECK(e.a < e.b);
  if (!edges_.emplace(e.a, e.b).second) return false;
  adjacency_[e.a].insert(e.b);
  adjacency_[e.b].insert(e.a);
  return true;
}

bool MemberTable::HasEdge(NodeId x, NodeId y) const {
  if (x == y) return false;
  return edges_.count(x < y ? std::pair{x, y} : std::pair{y, x}) != 0;
}

std::vector<Edge> MemberTable::Edges() const {
  std::vector<Edge> out;
  out.reserve(edges_.size());
  for (const auto& [a, b] : edges_) out.push_back(Edge{a, b});
  return out;
}

std::vector<Edge> MemberTable::LiveEdges() const {
  std::vector<Edge> out;
  for (const auto& [a, b] : edges_) {
    if (IsLive(a) && IsLive(b)) out.push_back(Edge{a, b});
  }
  return out;
}

std::vector<NodeId> MemberTable::LiveNeighbours(NodeId id) const {
  std::vector<NodeId> out;
  if (!IsLive(id)) return out;
  auto it = adjacency_.find(id);
  if (it == adjacency_.end()) return out;
  for (NodeId n : it->second) {
    if (IsLive(n)) out.push_back(n);
  }
  return out;
}

std::vector<NodeId> MemberTable::Neighbours(NodeId id) const {
  auto it = adjacency_.find(id);
  if (it == adjacency_.end()) return {};
  return std::vector<NodeId>(it->second.begin(), it->second.end());
}

std::size_t MemberTable::Degree(NodeId id) const {
  auto it = adjacency_.find(id);
  return it == adjacency_.end() ? 0 : it->second.size();
}

std::size_t MemberTable::LiveDegree(NodeId id) const { return LiveNeighbours(id).size(); }

std::vector<std::vector<NodeId>> MemberTable::LiveComponents() const {
  std::vector<std::vector<NodeId>> components;
  std::set<NodeId> seen;
  for (NodeId start : LiveIds()) {
    if (seen.count(start)) continue;
    std::vector<NodeId> component;
    std::vector<NodeId> stack{start};
    seen.insert(start);
    while (!stack.empty()) {
      NodeId n = stack.back();
      stack.pop_back();
      component.push_back(n);
      for (NodeId m : LiveNeighbours(n)) {
        if (seen.insert(m).second) stack.push_back(m);
      }
    }
    std::sort(component.begin(), component.end());
    components.push_back(std::move(component));
  }
  return components;  // starts are visited in id order, so already ordered by min id
}

}  // namespace grapevine::agent::core
