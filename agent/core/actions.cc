#include "agent/core/actions.h"

#include <iterator>
#include <utility>

namespace grapevine::agent::core {

const char* EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kMemberJoined: return "member_joined";
    case EventKind::kMemberAlive: return "member_alive";
    case EventKind::kMemberSuspect: return "member_suspect";
    case EventKind::kMemberDead: return "member_dead";
    case EventKind::kMemberLeft: return "member_left";
    case EventKind::kMemberReplaced: return "member_replaced";
    case EventKind::kNeighbourUp: return "neighbour_up";
    case EventKind::kNeighbourDown: return "neighbour_down";
    case EventKind::kEdgeAdded: return "edge_added";
    case EventKind::kSelfRefuted: return "self_refuted";
    case EventKind::kIdConflict: return "id_conflict";
  }
  return "?";
}

void Actions::Append(Actions&& other) {
  send.insert(send.end(), std::make_move_iterator(other.send.begin()),
              std::make_move_iterator(other.send.end()));
  events.insert(events.end(), other.events.begin(), other.events.end());
}

proto::Envelope Wrap(Outgoing out, proto::NodeId self, uint64_t incarnation,
                     std::vector<proto::MemberRecord> gossip) {
  proto::Envelope env;
  env.sender = self;
  env.incarnation = incarnation;
  env.gossip = std::move(gossip);
  env.body = std::move(out.body);
  return env;
}

}  // namespace grapevine::agent::core
