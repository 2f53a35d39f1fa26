// Unit tests of the Membership state machine: one or two instances driven by hand
// with explicit time points (no network, no sleeps).
#include "agent/core/membership.h"

#include <algorithm>
#include <memory>

#include <gtest/gtest.h>

namespace grapevine::agent::core {
namespace {

using std::chrono::milliseconds;

const MembershipConfig kConfig = MembershipConfig::Fast();
const TimePoint kStart{std::chrono::hours(1)};

std::string Addr(NodeId i) { return "h:" + std::to_string(i); }

std::unique_ptr<Membership> Node(NodeId self, int n, const std::vector<std::pair<int, int>>& edges,
                                 uint64_t seed = 1) {
  std::vector<MemberRecord> members;
  for (int i = 0; i < n; ++i) members.push_back({NodeId(i), Addr(i), MemberState::kAlive, 0});
  std::vector<Edge> es;
  for (auto [a, b] : edges) es.push_back(MakeEdge(a, b));
  auto m = std::make_unique<Membership>(kConfig, self, Addr(self), seed);
  EXPECT_TRUE(m->Bootstrap(members, es).ok());
  return m;
}

std::vector<std::pair<int, int>> RingEdges(int n) {
  std::vector<std::pair<int, int>> e;
  for (int i = 0; i < n; ++i) e.emplace_back(i, (i + 1) % n);
  return e;
}

std::unique_ptr<Membership> RingNode(NodeId self, int n) { return Node(self, n, RingEdges(n)); }

proto::Envelope Env(NodeId sender, uint64_t inc, proto::Body body,
                    std::vector<MemberRecord> gossip = {}) {
  return proto::Envelope{sender, inc, std::move(gossip), std::move(body)};
}

template <typename T>
std::vector<std::pair<NodeId, T>> Sent(const Actions& a) {
  std::vector<std::pair<NodeId, T>> out;
  for (const Outgoing& o : a.send) {
    if (const T* body = std::get_if<T>(&o.body)) out.emplace_back(o.to, *body);
  }
  return out;
}

bool Has(const Actions& a, EventKind kind, NodeId node) {
  return std::any_of(a.events.begin(), a.events.end(),
                     [&](const Event& e) { return e.kind == kind && e.node == node; });
}

// Ticks every millisecond from `now` until a direct probe goes out; returns it.
std::pair<NodeId, uint64_t> NextProbe(Membership& m, TimePoint& now) {
  for (int i = 0; i < 1000; ++i) {
    now += milliseconds(1);
    for (const auto& [to, ping] : Sent<proto::Ping>(m.OnTick(now))) {
      if (ping.target == proto::kNoNode) return {to, ping.seq};
    }
  }
  ADD_FAILURE() << "no probe sent";
  return {proto::kNoNode, 0};
}

double Weight(const std::vector<std::pair<NodeId, double>>& row, NodeId j) {
  for (const auto& [id, w] : row) {
    if (id == j) return w;
  }
  return -1;
}

TEST(Membership, BootstrapRejectsBadTopology) {
  Membership m(kConfig, 0, Addr(0), 1);
  const std::vector<MemberRecord> two = {{0, Addr(0), MemberState::kAlive, 0},
                                         {1, Addr(1), MemberState::kAlive, 0}};
  EXPECT_FALSE(m.Bootstrap({{1, Addr(1), MemberState::kAlive, 0}}, {}).ok());  // no self
  EXPECT_FALSE(m.Bootstrap({two[0], two[0]}, {}).ok());                          // duplicate
  EXPECT_FALSE(m.Bootstrap(two, {{0, 5}}).ok());                                // unknown
  EXPECT_FALSE(m.Bootstrap(two, {{1, 1}}).ok());                                // self-loop
  EXPECT_TRUE(m.Bootstrap(two, {{1, 0}}).ok());  // unordered endpoints are fine
  EXPECT_EQ(m.LiveNeighbours(), std::vector<NodeId>{1});
}

TEST(Membership, FirstTickReportsNeighboursUp) {
  auto m = RingNode(0, 4);
  const Actions a = m->OnTick(kStart);
  EXPECT_TRUE(Has(a, EventKind::kNeighbourUp, 1));
  EXPECT_TRUE(Has(a, EventKind::kNeighbourUp, 3));
  EXPECT_FALSE(Has(a, EventKind::kNeighbourUp, 2));
}

TEST(Membership, ProbesEveryMemberRoundRobinNotOnlyNeighbours) {
  auto m = RingNode(0, 6);
  TimePoint now = kStart;
  std::set<NodeId> probed;
  for (int i = 0; i < 5; ++i) {
    auto [to, seq] = NextProbe(*m, now);
    EXPECT_TRUE(probed.insert(to).second) << "probed " << to << " twice in one round";
    m->OnMessage(to, Env(to, 0, proto::Ack{seq, to}), now);
  }
  EXPECT_EQ(probed, (std::set<NodeId>{1, 2, 3, 4, 5}));
}

TEST(Membership, AnsweredProbeKeepsTargetAlive) {
  auto m = RingNode(0, 4);
  TimePoint now = kStart;
  auto [target, seq] = NextProbe(*m, now);
  const Actions a = m->OnMessage(target, Env(target, 0, proto::Ack{seq, target}), now);
  EXPECT_TRUE(a.send.empty());
  for (int i = 0; i < 100; ++i) {
    now += milliseconds(1);
    const Actions t = m->OnTick(now);
    EXPECT_FALSE(Has(t, EventKind::kMemberSuspect, target));
    // No indirect probes for an answered ping.
    for (const auto& [to, ping] : Sent<proto::Ping>(t)) EXPECT_NE(ping.target, target);
  }
  EXPECT_EQ(m->table().Find(target)->state, MemberState::kAlive);
}

TEST(Membership, SilentTargetGoesIndirectThenSuspectThenDead) {
  auto m = RingNode(0, 5);
  TimePoint now = kStart;
  auto [target, seq] = NextProbe(*m, now);
  const TimePoint sent = now;
  int indirect = 0;
  bool suspected = false, dead = false;
  TimePoint suspect_at{}, dead_at{};
  while (now < sent + milliseconds(2000) && !dead) {
    now += milliseconds(1);
    const Actions a = m->OnTick(now);
    for (const auto& [to, ping] : Sent<proto::Ping>(a)) {
      if (ping.target == target) {  // indirect probe request
        EXPECT_EQ(now - sent, kConfig.probe_timeout);
        EXPECT_EQ(ping.seq, seq);
        EXPECT_EQ(ping.requester, 0u);
        EXPECT_NE(to, target);
        ++indirect;
      } else if (ping.target == proto::kNoNode && to != target) {  // others answer
        m->OnMessage(to, Env(to, 0, proto::Ack{ping.seq, to}), now);
      }
    }
    if (Has(a, EventKind::kMemberSuspect, target)) {
      suspected = true;
      suspect_at = now;
      EXPECT_EQ(now - sent, kConfig.probe_interval);
      // The suspicion is gossiped.
      const auto gossip = m->TakeGossip(16);
      EXPECT_NE(std::find(gossip.begin(), gossip.end(),
                          MemberRecord{target, Addr(target), MemberState::kSuspect, 0}),
                gossip.end());
    }
    if (Has(a, EventKind::kMemberDead, target)) {
      dead = true;
      dead_at = now;
    }
  }
  EXPECT_EQ(indirect, 3);  // indirect_checks = 3 and there are 3 other members
  ASSERT_TRUE(suspected);
  ASSERT_TRUE(dead);
  // Dead on the first 1 ms tick at or after the suspicion timeout.
  EXPECT_GE(dead_at - suspect_at, SuspicionTimeout(kConfig, 5));
  EXPECT_LT(dead_at - suspect_at, SuspicionTimeout(kConfig, 5) + milliseconds(1));
  EXPECT_EQ(m->table().Find(target)->state, MemberState::kDead);
}

TEST(Membership, IndirectAckPreventsSuspicion) {
  auto m = RingNode(0, 5);
  TimePoint now = kStart;
  auto [target, seq] = NextProbe(*m, now);
  const TimePoint sent = now;
  int helpers = 0;
  while (now < sent + kConfig.probe_interval * 2) {
    now += milliseconds(1);
    const Actions a = m->OnTick(now);
    EXPECT_FALSE(Has(a, EventKind::kMemberSuspect, target));
    for (const auto& [to, ping] : Sent<proto::Ping>(a)) {
      if (ping.target == target) {
        ++helpers;
        m->OnMessage(to, Env(to, 0, proto::Ack{ping.seq, target}), now);  // relayed
      } else if (to != target) {
        m->OnMessage(to, Env(to, 0, proto::Ack{ping.seq, to}), now);
      }
    }
  }
  EXPECT_EQ(helpers, kConfig.indirect_checks);
  EXPECT_EQ(m->table().Find(target)->state, MemberState::kAlive);
}

TEST(Membership, RelaysIndirectPingAndAck) {
  auto m = RingNode(1, 4);
  const Actions a = m->OnMessage(0, Env(0, 0, proto::Ping{7, 2, 0}), kStart);
  const auto pings = Sent<proto::Ping>(a);
  ASSERT_EQ(pings.size(), 1u);
  EXPECT_EQ(pings[0].first, 2u);
  EXPECT_EQ(pings[0].second.target, proto::kNoNode);
  const Actions b = m->OnMessage(2, Env(2, 0, proto::Ack{pings[0].second.seq, 2}), kStart);
  const auto acks = Sent<proto::Ack>(b);
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, 0u);
  EXPECT_EQ(acks[0].second.seq, 7u);
  EXPECT_EQ(acks[0].second.target, 2u);
}

TEST(Membership, AnswersDirectPing) {
  auto m = RingNode(1, 4);
  const auto acks = Sent<proto::Ack>(m->OnMessage(3, Env(3, 0, proto::Ping{42}), kStart));
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_EQ(acks[0].first, 3u);
  EXPECT_EQ(acks[0].second.seq, 42u);
  EXPECT_EQ(acks[0].second.target, 1u);
}

TEST(Membership, RefutesSuspicionAndDeathAboutItself) {
  auto m = RingNode(0, 4);
  Actions a = m->OnMessage(
      1, Env(1, 0, proto::Bye{}, {{0, Addr(0), MemberState::kSuspect, 0}}), kStart);
  EXPECT_TRUE(Has(a, EventKind::kSelfRefuted, 0));
  EXPECT_EQ(m->incarnation(), 1u);
  EXPECT_EQ(m->table().Find(0)->state, MemberState::kAlive);
  auto gossip = m->TakeGossip(16);
  EXPECT_NE(std::find(gossip.begin(), gossip.end(),
                      MemberRecord{0, Addr(0), MemberState::kAlive, 1}),
            gossip.end());
  proto::MembershipUpdate update;
  update.members = {{0, Addr(0), MemberState::kDead, 3}};
  m->OnMessage(2, Env(2, 0, update), kStart);
  EXPECT_EQ(m->incarnation(), 4u);
  // A stale suspicion (below our incarnation) needs no refutation.
  update.members = {{0, Addr(0), MemberState::kSuspect, 2}};
  a = m->OnMessage(2, Env(2, 0, update), kStart);
  EXPECT_FALSE(Has(a, EventKind::kSelfRefuted, 0));
  EXPECT_EQ(m->incarnation(), 4u);
}

TEST(Membership, PrecedenceThroughGossip) {
  auto m = RingNode(0, 4);
  auto gossip = [&](MemberRecord r) {
    proto::MembershipUpdate u;
    u.members = {r};
    return m->OnMessage(3, Env(3, 0, u), kStart);
  };
  EXPECT_TRUE(Has(gossip({2, Addr(2), MemberState::kSuspect, 0}), EventKind::kMemberSuspect, 2));
  EXPECT_TRUE(gossip({2, Addr(2), MemberState::kAlive, 0}).events.empty());  // same inc
  EXPECT_TRUE(Has(gossip({2, Addr(2), MemberState::kAlive, 1}), EventKind::kMemberAlive, 2));
  EXPECT_TRUE(gossip({2, Addr(2), MemberState::kSuspect, 0}).events.empty());  // stale
  EXPECT_TRUE(Has(gossip({2, Addr(2), MemberState::kDead, 1}), EventKind::kMemberDead, 2));
  EXPECT_TRUE(gossip({2, Addr(2), MemberState::kAlive, 1}).events.empty());  // dead is final
  EXPECT_TRUE(Has(gossip({2, Addr(2), MemberState::kLeft, 1}), EventKind::kMemberLeft, 2));
  EXPECT_TRUE(gossip({2, Addr(2), MemberState::kAlive, 9}).events.empty());  // left is final
}

TEST(Membership, SuspectDiesAfterTimeoutUnlessRefuted) {
  auto m = RingNode(0, 4);
  proto::MembershipUpdate u;
  u.members = {{2, Addr(2), MemberState::kSuspect, 0}, {3, Addr(3), MemberState::kSuspect, 0}};
  m->OnTick(kStart);
  m->OnMessage(1, Env(1, 0, u), kStart);
  // 3 refutes half-way through its suspicion.
  const Duration timeout = SuspicionTimeout(kConfig, 4);
  u.members = {{3, Addr(3), MemberState::kAlive, 1}};
  m->OnMessage(1, Env(1, 0, u), kStart + timeout / 2);
  const Actions before = m->OnTick(kStart + timeout - milliseconds(1));
  EXPECT_FALSE(Has(before, EventKind::kMemberDead, 2));
  const Actions after = m->OnTick(kStart + timeout);
  EXPECT_TRUE(Has(after, EventKind::kMemberDead, 2));
  EXPECT_FALSE(Has(after, EventKind::kMemberDead, 3));
  EXPECT_EQ(m->table().Find(3)->state, MemberState::kAlive);
}

TEST(Membership, SenderHeaderProvesAliveOrLearnsItIsSuspected) {
  auto m = RingNode(0, 4);
  proto::MembershipUpdate u;
  u.members = {{1, Addr(1), MemberState::kDead, 0}, {2, Addr(2), MemberState::kSuspect, 0}};
  m->OnMessage(3, Env(3, 0, u), kStart);
  // 1 speaks at incarnation 1: first-hand proof that it is alive.
  const Actions a = m->OnMessage(1, Env(1, 1, proto::Ping{5}), kStart);
  EXPECT_TRUE(Has(a, EventKind::kMemberAlive, 1));
  EXPECT_EQ(m->table().Find(1)->incarnation, 1u);
  // 2 speaks at the suspected incarnation: it is told so it can refute.
  const Actions b = m->OnMessage(2, Env(2, 0, proto::Ping{6}), kStart);
  const auto told = Sent<proto::MembershipUpdate>(b);
  ASSERT_EQ(told.size(), 1u);
  EXPECT_EQ(told[0].first, 2u);
  EXPECT_EQ(told[0].second.members.at(0).state, MemberState::kSuspect);
  // ... at most once per probe interval.
  EXPECT_TRUE(Sent<proto::MembershipUpdate>(m->OnMessage(2, Env(2, 0, proto::Ping{7}), kStart))
                  .empty());
}

TEST(Membership, LeaveSendsByeAndLeftRecordThenGoesQuiet) {
  auto m = RingNode(0, 4);
  m->OnTick(kStart);
  const Actions a = m->Leave(kStart);
  std::set<NodeId> byes, told;
  for (const auto& [to, bye] : Sent<proto::Bye>(a)) byes.insert(to);
  for (const auto& [to, u] : Sent<proto::MembershipUpdate>(a)) {
    ASSERT_EQ(u.members.size(), 1u);
    EXPECT_EQ(u.members[0], (MemberRecord{0, Addr(0), MemberState::kLeft, 0}));
    told.insert(to);
  }
  EXPECT_EQ(byes, (std::set<NodeId>{1, 3}));
  EXPECT_TRUE(std::includes(told.begin(), told.end(), byes.begin(), byes.end()));
  EXPECT_TRUE(Has(a, EventKind::kNeighbourDown, 1));
  EXPECT_TRUE(Has(a, EventKind::kNeighbourDown, 3));
  EXPECT_TRUE(m->has_left());
  EXPECT_TRUE(m->OnTick(kStart + milliseconds(500)).empty());
  EXPECT_TRUE(m->OnMessage(1, Env(1, 0, proto::Ping{1}), kStart).empty());

  // A neighbour receiving the Bye.
  auto n = RingNode(1, 4);
  n->OnTick(kStart);
  const Actions b = n->OnMessage(0, Env(0, 0, proto::Bye{"leaving"}), kStart);
  EXPECT_TRUE(Has(b, EventKind::kMemberLeft, 0));
  EXPECT_TRUE(Has(b, EventKind::kNeighbourDown, 0));
  EXPECT_EQ(n->table().Find(0)->state, MemberState::kLeft);
}

TEST(Membership, JoinAssignsUniqueIdsAndAttachesToLeastLoaded) {
  // degrees: 0:3 1:2 2:2 3:2 4:1
  auto m = Node(0, 5, {{0, 1}, {0, 2}, {0, 3}, {1, 2}, {3, 4}});
  auto [first, a1] = m->HandleJoin({"h:new1", 0}, kStart);
  ASSERT_TRUE(first.accepted);
  EXPECT_EQ(first.assigned_id, 5u);
  EXPECT_EQ(first.neighbours, (std::vector<NodeId>{1, 4}));
  EXPECT_EQ(first.members.size(), 6u);
  EXPECT_EQ(first.edges.size(), 7u);
  EXPECT_TRUE(Has(a1, EventKind::kMemberJoined, 5));
  EXPECT_FALSE(Has(a1, EventKind::kNeighbourUp, 5));  // 0 is not an attach point
  // Degrees now 0:3 1:3 2:2 3:2 4:2 5:2 -> 2 and 3.
  auto [second, a2] = m->HandleJoin({"h:new2", 0}, kStart);
  EXPECT_EQ(second.assigned_id, 6u);
  EXPECT_EQ(second.neighbours, (std::vector<NodeId>{2, 3}));
  // A retry from the same address gets the same id and no new edges.
  auto [retry, a3] = m->HandleJoin({"h:new1", 0}, kStart);
  EXPECT_EQ(retry.assigned_id, 5u);
  EXPECT_EQ(m->table().EdgeCount(), 9u);
  // The new members and edges are broadcast.
  const auto gossip = m->TakeGossip(16);
  EXPECT_EQ(std::count_if(gossip.begin(), gossip.end(),
                          [](const MemberRecord& r) { return r.id >= 5; }),
            2);
  EXPECT_FALSE(m->HandleJoin({"", 0}, kStart).first.accepted);
  EXPECT_FALSE(m->HandleJoin({Addr(0), 0}, kStart).first.accepted);
}

TEST(Membership, JoinerAppliesReply) {
  auto member = RingNode(0, 4);
  auto [reply, ignored] = member->HandleJoin({"h:joiner", 0}, kStart);
  Membership joiner(kConfig, proto::kNoNode, "h:joiner", 9);
  proto::JoinReply refused;
  refused.reason = "full";
  EXPECT_FALSE(joiner.ApplyJoinReply(refused, kStart).ok());
  EXPECT_EQ(joiner.self(), proto::kNoNode);
  auto applied = joiner.ApplyJoinReply(reply, kStart);
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(joiner.self(), 4u);
  EXPECT_EQ(joiner.LiveNeighbours(), reply.neighbours);
  for (NodeId n : reply.neighbours) EXPECT_TRUE(Has(*applied, EventKind::kNeighbourUp, n));
  EXPECT_EQ(joiner.Members().size(), 5u);
  const auto gossip = joiner.TakeGossip(16);
  EXPECT_NE(std::find(gossip.begin(), gossip.end(),
                      MemberRecord{4, "h:joiner", MemberState::kAlive, 0}),
            gossip.end());
}

TEST(Membership, JoinReplyAcceptedByInstanceBuiltWithAssignedIdOnlyOnce) {
  auto member = RingNode(0, 4);
  auto [reply, ignored] = member->HandleJoin({"h:joiner", 0}, kStart);
  Membership joiner(kConfig, reply.assigned_id, "h:joiner", 9);
  ASSERT_TRUE(joiner.ApplyJoinReply(reply, kStart).ok());
  EXPECT_EQ(joiner.LiveNeighbours(), reply.neighbours);
  EXPECT_FALSE(joiner.ApplyJoinReply(reply, kStart).ok());  // already joined
  Membership wrong(kConfig, reply.assigned_id + 1, "h:joiner", 9);
  EXPECT_FALSE(wrong.ApplyJoinReply(reply, kStart).ok());
  EXPECT_FALSE(RingNode(1, 4)->ApplyJoinReply(reply, kStart).ok());  // bootstrapped
}

TEST(Membership, MixingRowOnLiveRingIsOneThird) {
  for (NodeId i = 0; i < 6; ++i) {
    auto m = RingNode(i, 6);
    const auto row = m->MixingRow();
    ASSERT_EQ(row.size(), 3u);
    EXPECT_EQ(row[0].first, i);
    for (const auto& [j, w] : row) EXPECT_DOUBLE_EQ(w, 1.0 / 3.0);
  }
}

TEST(Membership, MixingRowRecomputedAfterNeighbourDiesThenRepaired) {
  auto m = RingNode(0, 6);
  m->OnTick(kStart);
  proto::MembershipUpdate u;
  u.members = {{1, Addr(1), MemberState::kDead, 0}};
  const Actions a = m->OnMessage(3, Env(3, 0, u), kStart);
  EXPECT_TRUE(Has(a, EventKind::kNeighbourDown, 1));
  auto row = m->MixingRow();
  ASSERT_EQ(row.size(), 2u);
  EXPECT_DOUBLE_EQ(Weight(row, 5), 1.0 / 3.0);  // max(d0=1, d5=2) = 2
  EXPECT_DOUBLE_EQ(Weight(row, 0), 2.0 / 3.0);
  // Repair: live degree 1 < 2 for repair_grace -> link to the least-loaded alive
  // non-neighbour, 2.
  EXPECT_FALSE(Has(m->OnTick(kStart + milliseconds(1)), EventKind::kEdgeAdded, proto::kNoNode));
  EXPECT_FALSE(m->table().HasEdge(0, 2));
  const Actions t = m->OnTick(kStart + milliseconds(1) + kConfig.repair_grace);
  EXPECT_TRUE(Has(t, EventKind::kNeighbourUp, 2));
  EXPECT_TRUE(m->table().HasEdge(0, 2));
  row = m->MixingRow();
  double sum = 0;
  for (const auto& [j, w] : row) sum += w;
  EXPECT_DOUBLE_EQ(sum, 1.0);
  EXPECT_DOUBLE_EQ(Weight(row, 2), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(Weight(row, 5), 1.0 / 3.0);
  // The new edge is gossiped.
  bool gossiped = false;
  for (int i = 2; i < 200 && !gossiped; ++i) {
    const TimePoint at = kStart + kConfig.repair_grace + milliseconds(i);
    for (const auto& [to, upd] : Sent<proto::MembershipUpdate>(m->OnTick(at))) {
      for (const Edge& e : upd.edges_added) gossiped |= e == Edge{0, 2};
    }
  }
  EXPECT_TRUE(gossiped);
}

TEST(Membership, SmallestIdBridgesADisconnectedLiveGraphAfterGrace) {
  // Two triangles {0,1,2} and {3,4,5}: degrees are fine, the graph is split.
  const std::vector<std::pair<int, int>> edges = {{0, 1}, {1, 2}, {2, 0},
                                                  {3, 4}, {4, 5}, {5, 3}};
  auto leader = Node(0, 6, edges);
  auto other = Node(1, 6, edges);
  leader->OnTick(kStart);
  other->OnTick(kStart);
  EXPECT_FALSE(leader->table().HasEdge(0, 3));
  const TimePoint later = kStart + kConfig.repair_grace;
  leader->OnTick(later);
  other->OnTick(later);
  EXPECT_TRUE(leader->table().HasEdge(0, 3));  // least-loaded of the other part, by id
  EXPECT_EQ(leader->table().LiveComponents().size(), 1u);
  EXPECT_EQ(other->table().EdgeCount(), 6u);  // only the smallest id acts
}

TEST(Membership, PushPullMergesAndRepliesWithFullState) {
  auto m = RingNode(0, 4);
  proto::MembershipUpdate u;
  u.members = {{9, "h:9", MemberState::kAlive, 0}};
  u.edges_added = {{3, 9}, {3, 1} /* malformed: a > b */, {2, proto::kNoNode}};
  u.full_state = true;
  u.reply_wanted = true;
  const Actions a = m->OnMessage(3, Env(3, 0, u), kStart);
  EXPECT_TRUE(Has(a, EventKind::kMemberJoined, 9));
  EXPECT_TRUE(m->table().HasEdge(3, 9));
  EXPECT_FALSE(m->table().HasEdge(1, 3));
  const auto replies = Sent<proto::MembershipUpdate>(a);
  ASSERT_EQ(replies.size(), 1u);
  EXPECT_EQ(replies[0].first, 3u);
  EXPECT_TRUE(replies[0].second.full_state);
  EXPECT_FALSE(replies[0].second.reply_wanted);
  EXPECT_EQ(replies[0].second.members.size(), 5u);
  EXPECT_EQ(replies[0].second.edges_added.size(), 5u);
}

TEST(Membership, IdConflictLoserStopsWinnerInsists) {
  auto loser = Node(0, 2, {{0, 1}});
  proto::MembershipUpdate u;
  u.members = {{0, "a:0", MemberState::kAlive, 0}};  // "a:0" < "h:0"
  const Actions a = loser->OnMessage(1, Env(1, 0, u), kStart);
  EXPECT_TRUE(Has(a, EventKind::kIdConflict, 0));
  EXPECT_TRUE(loser->conflicted());
  EXPECT_TRUE(loser->OnTick(kStart).empty());

  auto winner = Node(0, 2, {{0, 1}});
  winner->TakeGossip(100);
  winner->TakeGossip(100);
  u.members = {{0, "z:0", MemberState::kAlive, 7}};
  const Actions w = winner->OnMessage(1, Env(1, 0, u), kStart);
  EXPECT_FALSE(winner->conflicted());
  bool told_loser = false;
  for (const Outgoing& o : w.send) told_loser |= o.to == proto::kNoNode && o.addr == "z:0";
  EXPECT_TRUE(told_loser);
  const auto gossip = winner->TakeGossip(16);
  EXPECT_NE(std::find(gossip.begin(), gossip.end(),
                      MemberRecord{0, Addr(0), MemberState::kAlive, 0}),
            gossip.end());
}

TEST(Membership, ThirdPartyTellsConflictLoserByAddressOnly) {
  auto m = RingNode(0, 4);
  proto::MembershipUpdate u;
  u.members = {{8, "h:b", MemberState::kAlive, 0}};
  m->OnMessage(1, Env(1, 0, u), kStart);
  u.members = {{8, "h:a", MemberState::kAlive, 0}};  // "h:a" < "h:b": a owns 8
  const Actions a = m->OnMessage(2, Env(2, 0, u), kStart);
  EXPECT_TRUE(Has(a, EventKind::kMemberReplaced, 8));
  auto told = [](const Actions& acts) {
    int n = 0;
    for (const Outgoing& o : acts.send) {
      const auto* upd = std::get_if<proto::MembershipUpdate>(&o.body);
      if (upd != nullptr && o.to == proto::kNoNode && o.addr == "h:b") {
        EXPECT_EQ(upd->members.at(0).addr, "h:a");
        ++n;
      }
    }
    return n;
  };
  EXPECT_EQ(told(a), 1);
  // The loser's stale record shows up again: told again, once per probe interval.
  u.members = {{8, "h:b", MemberState::kAlive, 3}};
  EXPECT_EQ(told(m->OnMessage(3, Env(3, 0, u), kStart)), 0);
  EXPECT_EQ(told(m->OnMessage(3, Env(3, 0, u), kStart + kConfig.probe_interval)), 1);
  EXPECT_EQ(m->table().Find(8)->addr, "h:a");
}

TEST(Membership, WrapFillsHeaderAndPiggybacksGossip) {
  auto m = RingNode(0, 4);
  proto::MembershipUpdate u;
  u.members = {{2, Addr(2), MemberState::kSuspect, 0}};
  m->OnMessage(1, Env(1, 0, u), kStart);
  const proto::Envelope env = m->Wrap(Outgoing{1, Addr(1), proto::Ping{3}});
  EXPECT_EQ(env.sender, 0u);
  EXPECT_EQ(env.incarnation, 0u);
  ASSERT_FALSE(env.gossip.empty());
  EXPECT_EQ(env.gossip[0].id, 2u);
  EXPECT_TRUE(std::holds_alternative<proto::Ping>(env.body));
}

}  // namespace
}  // namespace grapevine::agent::core
