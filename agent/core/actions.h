// What the pure membership state machine asks its owner to do: messages to send and
// events to react to (connect/disconnect sessions, recompute mixing weights, log).
//
// The state machine never does I/O. The node (agent/node) turns each Outgoing into an
// Envelope with Wrap() — which fills the header (sender, incarnation) and piggybacks
// pending gossip — and hands it to the net layer, which dials `addr` when it has no
// connection to `to` yet.
//
// Value types; no thread-safety concerns.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "proto/messages.h"

namespace grapevine::agent::core {

enum class EventKind : uint8_t {
  kMemberJoined,   // first time this view sees the node (alive)
  kMemberAlive,    // a suspect/dead node is alive again (refuted)
  kMemberSuspect,
  kMemberDead,
  kMemberLeft,
  kMemberReplaced, // id conflict resolved: another address owns the id now
  kNeighbourUp,    // a node became a live graph neighbour of this node
  kNeighbourDown,  // a live neighbour is gone (dead, left, or edge source died)
  kEdgeAdded,
  kSelfRefuted,    // this node was suspected/declared dead and refuted (incarnation++)
  kIdConflict,     // this node lost its id to another joiner: it must join again
};

const char* EventKindName(EventKind kind);

struct Event {
  EventKind kind = EventKind::kMemberJoined;
  proto::NodeId node = proto::kNoNode;  // the member concerned (edges: kNoNode)
  proto::Edge edge{};                   // kEdgeAdded only
  uint64_t incarnation = 0;
};

// A message to send. Usually `to` is a member id and `addr` where it listens (empty
// when only a reply path exists: send on the connection `to` came in on). One case
// has to == kNoNode: telling the loser of an id conflict that it lost — its id now
// names the winner, so it must be reached by `addr` alone, on a connection not
// registered under any id (e.g. the net layer's anonymous dial).
struct Outgoing {
  proto::NodeId to = proto::kNoNode;
  std::string addr;
  proto::Body body;
};

struct Actions {
  std::vector<Outgoing> send;
  std::vector<Event> events;

  void Append(Actions&& other);
  bool empty() const { return send.empty() && events.empty(); }
};

// Builds the wire envelope for one outgoing message.
proto::Envelope Wrap(Outgoing out, proto::NodeId self, uint64_t incarnation,
                     std::vector<proto::MemberRecord> gossip);

}  // namespace grapevine::agent::core
