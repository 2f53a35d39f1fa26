// One node's membership table and edge set, with SWIM precedence rules.
//
// The table is pure data plus the merge rules every node applies identically, so that
// all views converge whatever order gossip arrives in:
//   * A record for an unknown id is accepted as is.
//   * Id conflict (same id, two different non-empty addresses — two members admitted
//     different joiners at once): the record with the lexicographically smaller
//     address wins, whatever its incarnation; the other is discarded.
//   * kLeft is final: only the node itself announces it, nothing overrides it.
//   * Otherwise a higher incarnation wins; at equal incarnation the worse state wins
//     (alive < suspect < dead < left). So dead is final for its incarnation and only
//     the node itself, by refuting with a higher incarnation, comes back.
// Edges are undirected, stored with a < b, and only ever added (union merge): the
// live graph is the edge set filtered by both endpoints being live (alive or
// suspect), so a dead or left node's edges drop out of it without a removal.
//
// Owned by one Membership; not thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/core/clock.h"
#include "proto/messages.h"

namespace grapevine::agent::core {

using proto::Edge;
using proto::MemberRecord;
using proto::MemberState;
using proto::NodeId;

// Severity order used at equal incarnation: alive 0 < suspect 1 < dead 2 < left 3.
int StateRank(MemberState s);
const char* MemberStateName(MemberState s);
// Orders the endpoints (a < b). REQUIRES: x != y.
Edge MakeEdge(NodeId x, NodeId y);
// Live = alive or suspect: a suspect still counts in the graph (and in mixing) until
// it is declared dead, so weights do not flap during suspicion.
inline bool IsLiveState(MemberState s) {
  return s == MemberState::kAlive || s == MemberState::kSuspect;
}

class MemberTable {
 public:
  enum class Outcome {
    kIgnored,   // older or equal news; nothing changed
    kAdded,     // first record for this id
    kChanged,   // state and/or incarnation changed
    kReplaced,  // id conflict: a different node (address) now owns the id
    kAddrOnly,  // only a missing address was filled in
  };
  struct ApplyResult {
    Outcome outcome = Outcome::kIgnored;
    MemberState old_state = MemberState::kAlive;
    std::string old_addr;  // kReplaced: the address that lost the id
    bool changed() const { return outcome != Outcome::kIgnored && outcome != Outcome::kAddrOnly; }
  };

  // Merges one record under the precedence rules above. `now` stamps a state change
  // (the suspicion timer starts when a node becomes suspect).
  ApplyResult Apply(const MemberRecord& record, TimePoint now);
  // Overwrites the record unconditionally (this node's own record).
  void Set(const MemberRecord& record, TimePoint now);

  const MemberRecord* Find(NodeId id) const;
  // When the member's current state began (in this view).
  TimePoint StateSince(NodeId id) const;
  std::vector<MemberRecord> Records() const;  // sorted by id
  NodeId MaxId() const;                       // kNoNode when empty
  std::size_t size() const { return members_.size(); }

  bool IsLive(NodeId id) const;
  bool IsAlive(NodeId id) const;
  std::vector<NodeId> LiveIds() const;  // sorted
  std::size_t LiveCount() const;

  // Adds an edge; returns false when it was already known. REQUIRES: e.a < e.b.
  bool AddEdge(const Edge& e);
  bool HasEdge(NodeId x, NodeId y) const;
  std::vector<Edge> Edges() const;      // every known edge, sorted
  std::vector<Edge> LiveEdges() const;  // both endpoints live, sorted
  std::size_t EdgeCount() const { return edges_.size(); }
  std::vector<NodeId> LiveNeighbours(NodeId id) const;  // sorted
  // Neighbours / edges of `id` in the full edge set, dead endpoints included.
  std::vector<NodeId> Neighbours(NodeId id) const;  // sorted
  std::size_t Degree(NodeId id) const;
  std::size_t LiveDegree(NodeId id) const;
  // Connected components of the live graph, each sorted, ordered by smallest id.
  std::vector<std::vector<NodeId>> LiveComponents() const;

 private:
  struct Entry {
    MemberRecord record;
    TimePoint since;
  };
  std::map<NodeId, Entry> members_;
  std::set<std::pair<NodeId, NodeId>> edges_;
  std::map<NodeId, std::set<NodeId>> adjacency_;
};

}  // namespace grapevine::agent::core
