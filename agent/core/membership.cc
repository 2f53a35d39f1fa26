#include "agent/core/membership.h"

#include <algorithm>
#include <type_traits>

#include "agent/core/graph_policy.h"
#include "base/check.h"
#include "topology/mixing.h"

namespace grapevine::agent::core {
namespace {

uint64_t EdgeKey(const Edge& e) { return (static_cast<uint64_t>(e.a) << 32) | e.b; }

bool ValidWireEdge(const Edge& e) {
  return e.a != proto::kNoNode && e.b != proto::kNoNode && e.a < e.b;
}

}  // namespace

Membership::Membership(MembershipConfig config, NodeId self, std::string self_addr,
                       uint64_t seed)
    : config_(std::move(config)), self_(self), self_addr_(std::move(self_addr)), rng_(seed) {}

Status Membership::Bootstrap(std::vector<MemberRecord> members, std::vector<Edge> edges) {
  GV_CHECK(self_ != proto::kNoNode);
  std::set<NodeId> ids;
  for (const MemberRecord& r : members) {
    if (r.id == proto::kNoNode) return Status::Invalid("member without an id");
    if (!ids.insert(r.id).second) {
      return Status::Invalid("duplicate node id " + std::to_string(r.id));
    }
  }
  if (ids.count(self_) == 0) {
    return Status::Invalid("node " + std::to_string(self_) + " is not in the member list");
  }
  for (const Edge& e : edges) {
    if (e.a == e.b) return Status::Invalid("self-loop on node " + std::to_string(e.a));
    if (ids.count(e.a) == 0 || ids.count(e.b) == 0) {
      return Status::Invalid("edge " + std::to_string(e.a) + "-" + std::to_string(e.b) +
                             " names an unknown node");
    }
  }
  const TimePoint start{};
  for (const MemberRecord& r : members) {
    if (r.id == self_) {
      table_.Set(MemberRecord{self_, self_addr_, MemberState::kAlive, r.incarnation}, start);
    } else {
      table_.Apply(r, start);
    }
  }
  for (const Edge& e : edges) table_.AddEdge(MakeEdge(e.a, e.b));
  return Status::Ok();
}

uint64_t Membership::incarnation() const {
  const MemberRecord* r = table_.Find(self_);
  return r == nullptr ? 0 : r->incarnation;
}

int Membership::RetransmitLimitNow() const {
  return RetransmitLimit(config_, std::max<std::size_t>(table_.LiveCount(), 1));
}

// ---- merging -------------------------------------------------------------------

void Membership::Broadcast(const MemberRecord& record) {
  member_broadcasts_.Push(record.id, record);
}

void Membership::SetSelfIncarnation(uint64_t incarnation, TimePoint now) {
  table_.Set(MemberRecord{self_, self_addr_, MemberState::kAlive, incarnation}, now);
}

void Membership::ApplySelfRecord(const MemberRecord& record, TimePoint now, Actions& actions) {
  if (!record.addr.empty() && record.addr != self_addr_) {
    if (record.addr < self_addr_) {
      // Lost a join race: the id belongs to the other address everywhere.
      conflicted_ = true;
      probe_.reset();
      member_broadcasts_.Clear();
      edge_broadcasts_.Clear();
      actions.events.push_back(Event{EventKind::kIdConflict, self_, {}, record.incarnation});
    } else {
      // We win: make sure everyone hears our record, and the other node its defeat.
      Broadcast(*table_.Find(self_));
      TellConflictLoser(*table_.Find(self_), record.addr, now, actions);
    }
    return;
  }
  if (left_) return;
  const uint64_t mine = incarnation();
  if (record.state != MemberState::kAlive && record.incarnation >= mine) {
    SetSelfIncarnation(record.incarnation + 1, now);
    Broadcast(*table_.Find(self_));
    actions.events.push_back(Event{EventKind::kSelfRefuted, self_, {}, record.incarnation + 1});
  } else if (record.state == MemberState::kAlive && record.incarnation > mine) {
    SetSelfIncarnation(record.incarnation + 1, now);
    Broadcast(*table_.Find(self_));
  }
}

void Membership::ApplyRecord(const MemberRecord& record, TimePoint now, Actions& actions) {
  if (record.id == proto::kNoNode) return;
  if (record.id == self_) {
    ApplySelfRecord(record, now, actions);
    return;
  }
  if (const MemberRecord* local = table_.Find(record.id);
      local != nullptr && !local->addr.empty() && !record.addr.empty() &&
      record.addr > local->addr) {
    TellConflictLoser(*local, record.addr, now, actions);
    return;
  }
  const MemberTable::ApplyResult result = table_.Apply(record, now);
  if (!result.changed()) return;
  const MemberRecord& merged = *table_.Find(record.id);
  Broadcast(merged);
  Event event{EventKind::kMemberJoined, merged.id, {}, merged.incarnation};
  if (result.outcome == MemberTable::Outcome::kReplaced) {
    event.kind = EventKind::kMemberReplaced;
    TellConflictLoser(merged, result.old_addr, now, actions);
  } else {
    switch (merged.state) {
      case MemberState::kAlive:
        if (result.outcome == MemberTable::Outcome::kChanged) {
          if (result.old_state == MemberState::kAlive) return;  // incarnation bump only
          event.kind = EventKind::kMemberAlive;
        }
        break;
      case MemberState::kSuspect:
        event.kind = result.outcome == MemberTable::Outcome::kAdded
                         ? EventKind::kMemberJoined
                         : EventKind::kMemberSuspect;
        break;
      case MemberState::kDead: event.kind = EventKind::kMemberDead; break;
      case MemberState::kLeft: event.kind = EventKind::kMemberLeft; break;
    }
  }
  actions.events.push_back(event);
}

void Membership::TellConflictLoser(const MemberRecord& winner, const std::string& loser_addr,
                                   TimePoint now, Actions& actions) {
  // The loser is no longer reachable by id (the id routes to the winner), so it is
  // told at its own address; again whenever its stale record shows up, at most once
  // per probe interval, so a lost message cannot leave it running with a taken id.
  auto [it, inserted] = told_conflict_at_.try_emplace(loser_addr, now);
  if (!inserted && now - it->second < config_.probe_interval) return;
  it->second = now;
  proto::MembershipUpdate update;
  update.members.push_back(winner);
  // to = kNoNode: the id names the winner, so this must go by address only.
  actions.send.push_back(Outgoing{proto::kNoNode, loser_addr, std::move(update)});
}

void Membership::AddEdge(const Edge& edge, Actions& actions) {
  if (!table_.AddEdge(edge)) return;
  edge_broadcasts_.Push(EdgeKey(edge), edge);
  actions.events.push_back(Event{EventKind::kEdgeAdded, proto::kNoNode, edge, 0});
}

// ---- messages ------------------------------------------------------------------

Actions Membership::OnMessage(NodeId from, const proto::Envelope& env, TimePoint now) {
  Actions actions;
  if (!Active()) return actions;
  for (const MemberRecord& r : env.gossip) ApplyRecord(r, now, actions);
  if (!Active()) return actions;  // gossip told us we lost our id
  HandleSenderHeader(from, env.incarnation, now, actions);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, proto::MembershipUpdate>) {
          HandleUpdate(from, body, now, actions);
        } else if constexpr (std::is_same_v<T, proto::Ping>) {
          HandlePing(from, body, now, actions);
        } else if constexpr (std::is_same_v<T, proto::Ack>) {
          HandleAck(body, actions);
        } else if constexpr (std::is_same_v<T, proto::Bye>) {
          if (const MemberRecord* r = table_.Find(from); r != nullptr && from != self_) {
            ApplyRecord(MemberRecord{from, r->addr, MemberState::kLeft,
                                     std::max(r->incarnation, env.incarnation)},
                        now, actions);
          }
        }
      },
      env.body);
  DiffNeighbours(actions);
  return actions;
}

void Membership::HandleSenderHeader(NodeId from, uint64_t incarnation, TimePoint now,
                                    Actions& actions) {
  if (from == proto::kNoNode || from == self_) return;
  const MemberRecord* found = table_.Find(from);
  if (found == nullptr) {
    // A member we have never heard of talks to us: our view is behind (a rumour
    // missed us). Pull its full state over the connection it used.
    auto [it, inserted] = pulled_unknown_at_.try_emplace(from, now);
    if (inserted || now - it->second >= config_.probe_interval) {
      it->second = now;
      Send(from, FullState(/*reply_wanted=*/true), actions);
    }
    return;
  }
  if (found->state == MemberState::kLeft) return;
  const MemberRecord record = *found;
  if (incarnation > record.incarnation) {
    // Only the node itself raises its incarnation: a message at a higher one is
    // first-hand proof that it is alive.
    ApplyRecord(MemberRecord{from, record.addr, MemberState::kAlive, incarnation}, now,
                actions);
  } else if (record.state != MemberState::kAlive) {
    // It talks to us but we hold it suspect/dead: tell it (at most once per probe
    // interval) so it refutes without waiting for gossip to reach it.
    auto it = told_suspect_at_.find(from);
    if (it == told_suspect_at_.end() || now - it->second >= config_.probe_interval) {
      told_suspect_at_[from] = now;
      proto::MembershipUpdate update;
      update.members.push_back(record);
      Send(from, std::move(update), actions);
    }
  }
}

void Membership::HandleUpdate(NodeId from, const proto::MembershipUpdate& update, TimePoint now,
                              Actions& actions) {
  for (const MemberRecord& r : update.members) {
    ApplyRecord(r, now, actions);
    if (!Active()) return;
  }
  for (const Edge& e : update.edges_added) {
    if (ValidWireEdge(e)) AddEdge(e, actions);
  }
  // edges_removed is reserved: edges only leave the live graph with their endpoints.
  if (update.full_state && update.reply_wanted && from != proto::kNoNode) {
    Send(from, FullState(/*reply_wanted=*/false), actions);
  }
}

void Membership::HandlePing(NodeId from, const proto::Ping& ping, TimePoint now,
                            Actions& actions) {
  if (ping.target == proto::kNoNode || ping.target == self_) {
    Send(from, proto::Ack{ping.seq, self_}, actions);
    return;
  }
  const NodeId requester = ping.requester != proto::kNoNode ? ping.requester : from;
  const uint64_t seq = next_seq_++;
  relays_[seq] = Relay{requester, ping.seq, ping.target, now + config_.probe_interval};
  Send(ping.target, proto::Ping{seq, proto::kNoNode, proto::kNoNode}, actions);
}

void Membership::HandleAck(const proto::Ack& ack, Actions& actions) {
  if (probe_ && ack.seq == probe_->seq) probe_->acked = true;
  auto it = relays_.find(ack.seq);
  if (it != relays_.end()) {
    Send(it->second.requester, proto::Ack{it->second.requester_seq, it->second.target},
         actions);
    relays_.erase(it);
  }
}

// ---- timers --------------------------------------------------------------------

Actions Membership::OnTick(TimePoint now) {
  Actions actions;
  if (!Active()) return actions;
  if (!started_) {
    started_ = true;
    auto jitter = [&](Duration d) {
      return Duration(std::uniform_int_distribution<int64_t>(0, d.count())(rng_));
    };
    next_probe_at_ = now + jitter(config_.probe_interval);
    next_gossip_at_ = now;
    next_push_pull_at_ = joined_ ? now + 2 * config_.probe_interval
                                 : now + jitter(config_.push_pull_interval);
    next_reconnect_at_ = now + config_.reconnect_interval + jitter(config_.reconnect_interval);
  }
  std::erase_if(relays_, [&](const auto& kv) { return kv.second.expires <= now; });
  TickProbe(now, actions);
  TickSuspicion(now, actions);
  TickRepair(now, actions);
  TickGossip(now, actions);
  TickPushPull(now, actions);
  DiffNeighbours(actions);
  return actions;
}

void Membership::TickProbe(TimePoint now, Actions& actions) {
  if (probe_ && !table_.IsLive(probe_->target)) probe_.reset();  // died meanwhile
  if (probe_) {
    Probe& p = *probe_;
    if (!p.acked && !p.indirect_sent && now >= p.sent + config_.probe_timeout) {
      p.indirect_sent = true;
      for (NodeId helper : RandomLive(config_.indirect_checks, p.target)) {
        Send(helper, proto::Ping{p.seq, p.target, self_}, actions);
      }
    }
    if (now >= p.sent + config_.probe_interval) {
      const MemberRecord* r = table_.Find(p.target);
      if (!p.acked && r != nullptr && r->state == MemberState::kAlive) {
        ApplyRecord(MemberRecord{r->id, r->addr, MemberState::kSuspect, r->incarnation}, now,
                    actions);
      }
      probe_.reset();
    }
  }
  if (!probe_ && now >= next_probe_at_) {
    next_probe_at_ = now + config_.probe_interval;
    const NodeId target = NextProbeTarget();
    if (target == proto::kNoNode) return;
    probe_ = Probe{target, next_seq_++, now, false, false};
    Send(target, proto::Ping{probe_->seq, proto::kNoNode, proto::kNoNode}, actions);
  }
}

NodeId Membership::NextProbeTarget() {
  for (int pass = 0; pass < 2; ++pass) {
    while (probe_index_ < probe_order_.size()) {
      const NodeId n = probe_order_[probe_index_++];
      if (n != self_ && table_.IsLive(n)) return n;
    }
    // End of a round: reshuffle, which also picks up members that joined meanwhile.
    probe_order_ = table_.LiveIds();
    std::shuffle(probe_order_.begin(), probe_order_.end(), rng_);
    probe_index_ = 0;
  }
  return proto::kNoNode;
}

void Membership::TickSuspicion(TimePoint now, Actions& actions) {
  const Duration timeout = SuspicionTimeout(config_, table_.LiveCount());
  for (NodeId id : table_.LiveIds()) {
    const MemberRecord r = *table_.Find(id);
    if (r.state == MemberState::kSuspect && now - table_.StateSince(id) >= timeout) {
      ApplyRecord(MemberRecord{id, r.addr, MemberState::kDead, r.incarnation}, now, actions);
    }
  }
}

void Membership::TickRepair(TimePoint now, Actions& actions) {
  if (!table_.IsAlive(self_)) return;
  // Edges are permanent, so repair waits out repair_grace when a lost neighbour is
  // dead: "dead" in a stale full state (a partition healing) is refuted within a few
  // gossip rounds. A neighbour that left is gone for good: repair at once.
  std::vector<NodeId> targets =
      PickRepairTargets(table_, self_, config_.min_degree, config_.max_degree);
  bool may_come_back = false;
  for (NodeId n : table_.Neighbours(self_)) {
    const MemberRecord* r = table_.Find(n);
    may_come_back |= r != nullptr && r->state == MemberState::kDead;
  }
  if (targets.empty()) {
    low_degree_since_.reset();
  } else if (!low_degree_since_) {
    low_degree_since_ = now;
  }
  if (!targets.empty() &&
      (!may_come_back || now - *low_degree_since_ >= config_.repair_grace)) {
    for (NodeId target : targets) AddEdge(MakeEdge(self_, target), actions);
    low_degree_since_.reset();
  }
  if (table_.LiveComponents().size() < 2) {
    disconnected_since_.reset();
    return;
  }
  if (!disconnected_since_) disconnected_since_ = now;
  if (now - *disconnected_since_ < config_.repair_grace) return;
  for (const Edge& e : PickBridges(table_, self_)) AddEdge(e, actions);
  disconnected_since_.reset();
}

void Membership::TickGossip(TimePoint now, Actions& actions) {
  if (now < next_gossip_at_) return;
  next_gossip_at_ = now + config_.gossip_interval;
  if (member_broadcasts_.empty() && edge_broadcasts_.empty()) return;
  // Member records ride in the envelope's gossip (Wrap takes them when the message
  // is sent); putting them in the body too would spend two transmissions on one.
  const int limit = RetransmitLimitNow();
  for (NodeId to : RandomLive(config_.gossip_nodes, proto::kNoNode)) {
    proto::MembershipUpdate update;
    update.edges_added = edge_broadcasts_.Take(config_.max_edges_per_message, limit);
    Send(to, std::move(update), actions);
  }
}

void Membership::TickPushPull(TimePoint now, Actions& actions) {
  if (now >= next_push_pull_at_) {
    next_push_pull_at_ = now + config_.push_pull_interval;
    for (NodeId to : RandomLive(1, proto::kNoNode)) {
      Send(to, FullState(/*reply_wanted=*/true), actions);
    }
  }
  if (now >= next_reconnect_at_) {
    next_reconnect_at_ = now + config_.reconnect_interval;
    std::vector<NodeId> dead;
    for (const MemberRecord& r : table_.Records()) {
      if (r.state == MemberState::kDead && r.id != self_) dead.push_back(r.id);
    }
    if (!dead.empty()) {
      const NodeId to = dead[std::uniform_int_distribution<std::size_t>(0, dead.size() - 1)(rng_)];
      Send(to, FullState(/*reply_wanted=*/true), actions);
    }
  }
}

// ---- leave and join ------------------------------------------------------------

Actions Membership::Leave(TimePoint now) {
  Actions actions;
  if (!Active()) return actions;
  const std::vector<NodeId> neighbours = LiveNeighbours();
  std::vector<NodeId> targets = RandomLive(config_.gossip_nodes, proto::kNoNode);
  const MemberRecord left{self_, self_addr_, MemberState::kLeft, incarnation()};
  table_.Set(left, now);
  left_ = true;
  probe_.reset();
  relays_.clear();
  Broadcast(left);
  targets.insert(targets.end(), neighbours.begin(), neighbours.end());
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
  for (NodeId to : targets) {
    proto::MembershipUpdate update;
    update.members.push_back(left);
    Send(to, std::move(update), actions);
  }
  for (NodeId to : neighbours) Send(to, proto::Bye{"leaving"}, actions);
  DiffNeighbours(actions);
  return actions;
}

std::pair<proto::JoinReply, Actions> Membership::HandleJoin(const proto::JoinRequest& request,
                                                            TimePoint now) {
  proto::JoinReply reply;
  Actions actions;
  if (!Active()) {
    reply.reason = "this member is not active (leaving, or not joined yet)";
    return {reply, actions};
  }
  if (request.listen_addr.empty()) {
    reply.reason = "join request without a listen address";
    return {reply, actions};
  }
  if (request.listen_addr == self_addr_) {
    reply.reason = "address " + request.listen_addr + " is this member's own";
    return {reply, actions};
  }
  NodeId id = proto::kNoNode;
  for (const MemberRecord& r : table_.Records()) {
    if (r.addr == request.listen_addr && IsLiveState(r.state)) id = r.id;  // a retry
  }
  if (id == proto::kNoNode) {
    id = NextJoinId(table_, self_);
    const std::vector<NodeId> attach =
        PickAttachPoints(table_, config_.join_attach_k, config_.max_degree);
    ApplyRecord(MemberRecord{id, request.listen_addr, MemberState::kAlive, 0}, now, actions);
    for (NodeId m : attach) AddEdge(MakeEdge(id, m), actions);
  }
  reply.accepted = true;
  reply.assigned_id = id;
  reply.neighbours = table_.LiveNeighbours(id);
  reply.members = table_.Records();
  reply.edges = table_.Edges();
  DiffNeighbours(actions);
  return {reply, actions};
}

Result<Actions> Membership::ApplyJoinReply(const proto::JoinReply& reply, TimePoint now) {
  if (!reply.accepted) return Status::Unavailable("join refused: " + reply.reason);
  if (reply.assigned_id == proto::kNoNode) {
    return Status::Invalid("join reply accepted but assigned no id");
  }
  if (table_.size() != 0 || (self_ != proto::kNoNode && self_ != reply.assigned_id)) {
    return Status::Internal("join reply for node " + std::to_string(reply.assigned_id) +
                            " reached a membership that is already node " +
                            std::to_string(self_));
  }
  Actions actions;
  self_ = reply.assigned_id;
  joined_ = true;
  uint64_t self_incarnation = 0;
  for (const MemberRecord& r : reply.members) {
    if (r.id == self_) {
      self_incarnation = r.incarnation;
    } else {
      table_.Apply(r, now);
    }
  }
  SetSelfIncarnation(self_incarnation, now);
  for (const Edge& e : reply.edges) {
    if (ValidWireEdge(e)) table_.AddEdge(e);
  }
  for (NodeId n : reply.neighbours) {
    if (n != self_ && n != proto::kNoNode) AddEdge(MakeEdge(self_, n), actions);
  }
  Broadcast(*table_.Find(self_));
  DiffNeighbours(actions);
  return actions;
}

// ---- helpers and views ---------------------------------------------------------

std::vector<MemberRecord> Membership::TakeGossip(std::size_t max) {
  if (self_ == proto::kNoNode || conflicted_) return {};
  return member_broadcasts_.Take(max, RetransmitLimitNow());
}

proto::Envelope Membership::Wrap(Outgoing out) {
  std::vector<MemberRecord> gossip = TakeGossip(config_.max_gossip_per_message);
  return core::Wrap(std::move(out), self_, incarnation(), std::move(gossip));
}

std::vector<NodeId> Membership::RandomLive(std::size_t count, NodeId exclude) {
  std::vector<NodeId> ids;
  for (NodeId n : table_.LiveIds()) {
    if (n != self_ && n != exclude) ids.push_back(n);
  }
  std::shuffle(ids.begin(), ids.end(), rng_);
  if (ids.size() > count) ids.resize(count);
  return ids;
}

proto::MembershipUpdate Membership::FullState(bool reply_wanted) const {
  proto::MembershipUpdate update;
  update.members = table_.Records();
  update.edges_added = table_.Edges();
  update.full_state = true;
  update.reply_wanted = reply_wanted;
  return update;
}

void Membership::Send(NodeId to, proto::Body body, Actions& actions) const {
  const MemberRecord* r = table_.Find(to);
  actions.send.push_back(Outgoing{to, r != nullptr ? r->addr : std::string(), std::move(body)});
}

void Membership::DiffNeighbours(Actions& actions) {
  std::set<NodeId> now_live;
  if (Active()) {
    for (NodeId n : table_.LiveNeighbours(self_)) now_live.insert(n);
  }
  for (NodeId n : now_live) {
    if (last_neighbours_.count(n) == 0) {
      actions.events.push_back(Event{EventKind::kNeighbourUp, n, {}, 0});
    }
  }
  for (NodeId n : last_neighbours_) {
    if (now_live.count(n) == 0) {
      actions.events.push_back(Event{EventKind::kNeighbourDown, n, {}, 0});
    }
  }
  last_neighbours_ = std::move(now_live);
}

std::vector<std::pair<NodeId, double>> Membership::MixingRow() const {
  std::vector<std::pair<NodeId, double>> row;
  if (self_ == proto::kNoNode) return row;
  const std::vector<NodeId> neighbours = table_.LiveNeighbours(self_);
  const std::size_t d_self = neighbours.size();
  double sum = 0.0;
  row.emplace_back(self_, 0.0);
  for (NodeId j : neighbours) {
    const double w = topology::MetropolisWeight(d_self, table_.LiveDegree(j));
    row.emplace_back(j, w);
    sum += w;
  }
  row.front().second = 1.0 - sum;
  return row;
}

}  // namespace grapevine::agent::core
