// GroupView: efficient-adam's groups as one agent's membership view sees them
// (ALGORITHMS.md §5, docs/algorithms.md). Inside each group of the topology (node
// attribute `group`; a file without groups is one group) the live member that the file
// names with the lowest (incarnation, id) is the group's leader: the lowest id, except
// that an agent restarted with a fresh model (it comes back with a higher incarnation)
// does not take the lead from one that kept training. A live member the file does not name (a joiner)
// belongs to the group of its lowest-id live neighbour that the file names; one with no
// such neighbour is alone in a group of its own, without a leader. Leaders of groups
// joined by a live edge are the leader graph's neighbours, with Metropolis weights on
// that graph.
//
// Deterministic in its inputs: agents with the same membership view agree on every
// group, leader and weight without a message.
// Thread-safety: a plain value; Compute is a pure function.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "proto/messages.h"

namespace grapevine::agent::algorithms {

class GroupView {
 public:
  // `named`: the topology's group of every node the file names ("" when it gives none).
  // `live`: the live members with their incarnations; `edges`: the live graph
  // (undirected).
  static GroupView Compute(const std::map<proto::NodeId, std::string>& named,
                           const std::vector<proto::MemberRecord>& live,
                           const std::vector<proto::Edge>& edges);

  // The group of a live member; nullopt for an id that is not live.
  std::optional<std::string> GroupOf(proto::NodeId id) const;
  // The leader of `id`'s group; nullopt when `id` is not live or its group has none.
  std::optional<proto::NodeId> LeaderOf(proto::NodeId id) const;
  // The live members of `id`'s group other than `id`.
  std::vector<proto::NodeId> Followers(proto::NodeId id) const;
  // For a leader: the leaders of the adjacent groups with their Metropolis weights on
  // the leader graph. Empty for a non-leader.
  std::vector<std::pair<proto::NodeId, double>> LeaderRow(proto::NodeId leader) const;
  // The leader graph's edges (for tuning the consensus step on it).
  const std::vector<proto::Edge>& leader_edges() const { return leader_edges_; }
  size_t group_count() const { return leaders_.size() + leaderless_; }

 private:
  std::map<proto::NodeId, std::string> group_;   // every live member
  std::map<std::string, proto::NodeId> leaders_;  // group → leader
  std::vector<proto::Edge> leader_edges_;
  size_t leaderless_ = 0;
};

}  // namespace grapevine::agent::algorithms
