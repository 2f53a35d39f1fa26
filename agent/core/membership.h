// Membership: one node's SWIM view of the swarm — who is alive, suspect, dead or
// left, which graph edges exist — plus join, failure detection, anti-entropy and
// graph repair.
//
// A pure state machine: it never reads a clock, never sleeps, never touches a
// socket. Its owner (the node's network thread, or the simulator) feeds it messages
// and ticks with the current time and performs the returned Actions:
//
//   Membership m(MembershipConfig::Lan(), id, "host:port", seed);
//   m.Bootstrap(members, edges);            // from the topology file
//   every few ms:  perform(m.OnTick(clock.Now()));
//   on a message:  perform(m.OnMessage(env.sender, env, clock.Now()));
//   when sending:  env = m.Wrap(std::move(outgoing));   // header + piggybacked gossip
//
// Failure detection follows SWIM/memberlist: each probe interval ping the next member
// of a shuffled round-robin list of *all* live members; no Ack within probe_timeout →
// indirect pings through `indirect_checks` others; still nothing at the end of the
// interval → suspect; suspect for SuspicionTimeout(n) → dead. A node that hears it is
// suspected or dead refutes by incrementing its incarnation. Updates spread through a
// transmit-limited broadcast queue (piggybacked on every envelope and pushed to a few
// random members each gossip interval), with periodic full-state push-pull with one
// random live member and, to heal partitions, with one random dead member.
// Precedence rules: see member_table.h; join and repair choices: graph_policy.h.
//
// Owned by the node; all calls on one thread (the network thread). Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/core/actions.h"
#include "agent/core/broadcast_queue.h"
#include "agent/core/clock.h"
#include "agent/core/member_table.h"
#include "agent/core/membership_config.h"
#include "base/status.h"
#include "proto/messages.h"

namespace grapevine::agent::core {

class Membership {
 public:
  // `self` is kNoNode for a node that will join a running swarm (ApplyJoinReply).
  Membership(MembershipConfig config, NodeId self, std::string self_addr, uint64_t seed);

  Membership(const Membership&) = delete;
  Membership& operator=(const Membership&) = delete;

  // Initial view from the topology file. Fails when `members` does not contain self,
  // repeats an id, or an edge is a self-loop or names an unknown node.
  // REQUIRES: self != kNoNode, called once before any tick.
  Status Bootstrap(std::vector<MemberRecord> members, std::vector<Edge> edges);

  // A message from `from` (the envelope's sender) arrived. Handles piggybacked gossip,
  // MembershipUpdate, Ping, Ack and Bye; other bodies are ignored (JoinRequest and
  // JoinReply go through HandleJoin / ApplyJoinReply).
  Actions OnMessage(NodeId from, const proto::Envelope& env, TimePoint now);

  // Timers: probes, indirect probes, suspicion timeouts, gossip, push-pull, repair.
  // Call often (every few ms in production, every simulator step in tests).
  Actions OnTick(TimePoint now);

  // Graceful leave: broadcast kLeft for self, Bye to live neighbours. Afterwards the
  // instance is inert (ticks and messages do nothing).
  Actions Leave(TimePoint now);

  // A member admitting a joiner: assigns an id, attaches it to the k least-loaded
  // alive members, broadcasts the new member and edges. The net layer sends the reply
  // on the request's own connection. (The model fingerprint is checked by the node.)
  std::pair<proto::JoinReply, Actions> HandleJoin(const proto::JoinRequest& request,
                                                  TimePoint now);
  // The joiner adopting the reply. Fails (and changes nothing) when the reply is a
  // refusal or malformed, or when this instance already has a view (bootstrapped or
  // joined). Construct it with self = kNoNode or self = reply.assigned_id. After
  // kIdConflict, build a fresh instance and join again.
  Result<Actions> ApplyJoinReply(const proto::JoinReply& reply, TimePoint now);

  // Member records to piggyback on an outgoing envelope (counts as a transmission).
  std::vector<MemberRecord> TakeGossip(std::size_t max);
  // Envelope for `out`: sender, incarnation and up to max_gossip_per_message records.
  proto::Envelope Wrap(Outgoing out);

  // ---- views -------------------------------------------------------------------
  NodeId self() const { return self_; }
  const std::string& self_addr() const { return self_addr_; }
  uint64_t incarnation() const;
  bool has_left() const { return left_; }
  // True after this node lost its id in a join race; it must join again.
  bool conflicted() const { return conflicted_; }
  const MemberTable& table() const { return table_; }
  std::vector<MemberRecord> Members() const { return table_.Records(); }
  std::vector<Edge> LiveEdges() const { return table_.LiveEdges(); }
  std::vector<NodeId> LiveNeighbours() const { return table_.LiveNeighbours(self_); }
  // Metropolis weights of self's row on the live graph: first (self, w_ii), then each
  // live neighbour j with w_ij = 1 / (1 + max(d_i, d_j)); the row sums to 1.
  std::vector<std::pair<NodeId, double>> MixingRow() const;
  const MembershipConfig& config() const { return config_; }

 private:
  struct Probe {
    NodeId target = proto::kNoNode;
    uint64_t seq = 0;
    TimePoint sent;
    bool indirect_sent = false;
    bool acked = false;
  };
  struct Relay {  // an indirect ping we perform for someone else
    NodeId requester = proto::kNoNode;
    uint64_t requester_seq = 0;
    NodeId target = proto::kNoNode;
    TimePoint expires;
  };

  bool Active() const { return self_ != proto::kNoNode && !left_ && !conflicted_; }
  // Merges one record (self records trigger refutation / conflict handling).
  void ApplyRecord(const MemberRecord& record, TimePoint now, Actions& actions);
  void ApplySelfRecord(const MemberRecord& record, TimePoint now, Actions& actions);
  void AddEdge(const Edge& edge, Actions& actions);
  void TellConflictLoser(const MemberRecord& winner, const std::string& loser_addr,
                         TimePoint now, Actions& actions);
  void Broadcast(const MemberRecord& record);
  void SetSelfIncarnation(uint64_t incarnation, TimePoint now);

  void HandleUpdate(NodeId from, const proto::MembershipUpdate& update, TimePoint now,
                    Actions& actions);
  void HandlePing(NodeId from, const proto::Ping& ping, TimePoint now, Actions& actions);
  void HandleAck(const proto::Ack& ack, Actions& actions);
  void HandleSenderHeader(NodeId from, uint64_t incarnation, TimePoint now, Actions& actions);

  void TickProbe(TimePoint now, Actions& actions);
  void TickSuspicion(TimePoint now, Actions& actions);
  void TickGossip(TimePoint now, Actions& actions);
  void TickPushPull(TimePoint now, Actions& actions);
  void TickRepair(TimePoint now, Actions& actions);
  NodeId NextProbeTarget();
  // Up to `count` random live members other than self and `exclude`.
  std::vector<NodeId> RandomLive(std::size_t count, NodeId exclude);
  proto::MembershipUpdate FullState(bool reply_wanted) const;
  void Send(NodeId to, proto::Body body, Actions& actions) const;
  // Emits kNeighbourUp/Down for changes of the live neighbour set since the last call.
  void DiffNeighbours(Actions& actions);
  int RetransmitLimitNow() const;

  MembershipConfig config_;
  NodeId self_;
  std::string self_addr_;
  std::mt19937_64 rng_;
  MemberTable table_;
  BroadcastQueue<MemberRecord> member_broadcasts_;
  BroadcastQueue<Edge> edge_broadcasts_;
  bool left_ = false;
  bool conflicted_ = false;

  bool started_ = false;
  // A joiner pulls full state early: its snapshot misses whatever was admitted while
  // its own admission was spreading, and rumours about that may never reach it.
  bool joined_ = false;
  TimePoint next_probe_at_;
  TimePoint next_gossip_at_;
  TimePoint next_push_pull_at_;
  TimePoint next_reconnect_at_;
  std::optional<Probe> probe_;
  std::vector<NodeId> probe_order_;
  std::size_t probe_index_ = 0;
  uint64_t next_seq_ = 1;
  std::map<uint64_t, Relay> relays_;  // keyed by our own ping seq
  std::map<NodeId, TimePoint> told_suspect_at_;
  std::map<std::string, TimePoint> told_conflict_at_;  // keyed by the loser's address
  std::map<NodeId, TimePoint> pulled_unknown_at_;
  std::optional<TimePoint> disconnected_since_;
  std::optional<TimePoint> low_degree_since_;
  std::set<NodeId> last_neighbours_;
};

}  // namespace grapevine::agent::core
