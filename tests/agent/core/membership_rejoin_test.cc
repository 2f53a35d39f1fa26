// Unit tests of RejoinPolicy (re-join vs give up after a lost id, with explicit time
// points) and of the membership side of a re-join: a member hands the lost id out
// again until it hears of the conflict, then a fresh one.
#include "agent/core/membership_rejoin.h"

#include <memory>

#include <gtest/gtest.h>

#include "agent/core/membership.h"

namespace grapevine::agent::core {
namespace {

using std::chrono::milliseconds;
using Decision = RejoinPolicy::Decision;

const TimePoint kRejoinStart{std::chrono::hours(1)};

TEST(RejoinPolicy, FirstAttemptAfterTheFirstPause) {
  RejoinPolicy p;
  EXPECT_FALSE(p.rejoining());
  EXPECT_EQ(p.OnLost(8, kRejoinStart), Decision::kRetry);
  EXPECT_TRUE(p.rejoining());
  EXPECT_FALSE(p.in_flight());
  EXPECT_FALSE(p.Due(kRejoinStart));
  EXPECT_FALSE(p.Due(kRejoinStart + milliseconds(249)));
  EXPECT_TRUE(p.Due(kRejoinStart + milliseconds(250)));
  EXPECT_EQ(p.StartAttempt(kRejoinStart + milliseconds(250)), 1);
  EXPECT_TRUE(p.in_flight());
  EXPECT_FALSE(p.Due(kRejoinStart + milliseconds(300)));  // one attempt at a time
  EXPECT_EQ(p.last_lost(), 8u);
}

TEST(RejoinPolicy, PausesDoubleUpToTheCap) {
  RejoinPolicy p;
  EXPECT_EQ(p.PauseBefore(1), milliseconds(250));
  EXPECT_EQ(p.PauseBefore(2), milliseconds(500));
  EXPECT_EQ(p.PauseBefore(3), milliseconds(1000));
  EXPECT_EQ(p.PauseBefore(5), milliseconds(4000));
  EXPECT_EQ(p.PauseBefore(9), milliseconds(4000));
}

TEST(RejoinPolicy, GivesUpAfterMaxAttemptsOfAnyKind) {
  RejoinPolicy p(RejoinConfig{3, milliseconds(10), milliseconds(40), milliseconds(1000)});
  TimePoint now = kRejoinStart;
  ASSERT_EQ(p.OnLost(8, now), Decision::kRetry);
  now += milliseconds(10);
  ASSERT_TRUE(p.Due(now));
  EXPECT_EQ(p.StartAttempt(now), 1);
  // Attempt 1 fails (refused, unreachable, lost id handed out again).
  ASSERT_EQ(p.OnAttemptFailed(now), Decision::kRetry);
  EXPECT_FALSE(p.Due(now + milliseconds(19)));
  now += milliseconds(20);
  ASSERT_TRUE(p.Due(now));
  EXPECT_EQ(p.StartAttempt(now), 2);
  // Attempt 2 gets an id, which is lost again: that costs no extra attempt by itself,
  // but the next join is attempt 3, the last one.
  p.OnJoined();
  EXPECT_FALSE(p.rejoining());
  ASSERT_EQ(p.OnLost(9, now), Decision::kRetry);
  now += milliseconds(40);
  ASSERT_TRUE(p.Due(now));
  EXPECT_EQ(p.StartAttempt(now), 3);
  EXPECT_EQ(p.OnAttemptFailed(now), Decision::kGiveUp);
  EXPECT_FALSE(p.rejoining());
  EXPECT_FALSE(p.Due(now + std::chrono::hours(1)));
  EXPECT_EQ(p.attempts(), 3);
}

TEST(RejoinPolicy, LosingAgainAfterTheLastAttemptGivesUp) {
  RejoinPolicy p(RejoinConfig{1, milliseconds(10), milliseconds(10), milliseconds(1000)});
  ASSERT_EQ(p.OnLost(8, kRejoinStart), Decision::kRetry);
  p.StartAttempt(kRejoinStart + milliseconds(10));
  p.OnJoined();
  EXPECT_EQ(p.OnLost(9, kRejoinStart + milliseconds(20)), Decision::kGiveUp);
}

TEST(RejoinPolicy, AttemptWithoutReplyTimesOut) {
  RejoinPolicy p;
  p.OnLost(8, kRejoinStart);
  const TimePoint at = kRejoinStart + milliseconds(250);
  p.StartAttempt(at);
  EXPECT_FALSE(p.TimedOut(at + std::chrono::seconds(5) - milliseconds(1)));
  EXPECT_TRUE(p.TimedOut(at + std::chrono::seconds(5)));
  EXPECT_EQ(p.OnAttemptFailed(at + std::chrono::seconds(5)), Decision::kRetry);
  EXPECT_FALSE(p.TimedOut(at + std::chrono::seconds(60)));  // nothing in flight
}

TEST(RejoinPolicy, RefusesEveryLostId) {
  RejoinPolicy p;
  EXPECT_TRUE(p.Acceptable(8));
  p.OnLost(8, kRejoinStart);
  p.StartAttempt(kRejoinStart + milliseconds(250));
  p.OnJoined();
  p.OnLost(11, kRejoinStart + milliseconds(300));
  EXPECT_FALSE(p.Acceptable(8));
  EXPECT_FALSE(p.Acceptable(11));
  EXPECT_TRUE(p.Acceptable(12));
  EXPECT_EQ(p.last_lost(), 11u);
}

TEST(FrameAfterRejoin, KeepsABorrowedFrameAndRenamesTheLostId) {
  EXPECT_EQ(FrameAfterRejoin(0, 8, 12), 0u);   // a state-transfer / merged frame
  EXPECT_EQ(FrameAfterRejoin(3, 8, 12), 3u);
  EXPECT_EQ(FrameAfterRejoin(8, 8, 12), 12u);  // our own unit order, renamed
  EXPECT_EQ(FrameAfterRejoin(proto::kNoNode, 8, 12), proto::kNoNode);
}

// ---- the membership side --------------------------------------------------------

const MembershipConfig kRejoinConfig = MembershipConfig::Fast();

std::unique_ptr<Membership> Member(NodeId self, int n) {
  std::vector<MemberRecord> members;
  std::vector<Edge> edges;
  for (int i = 0; i < n; ++i) {
    members.push_back({NodeId(i), "m:" + std::to_string(i), MemberState::kAlive, 0});
    edges.push_back(MakeEdge(NodeId(i), NodeId((i + 1) % n)));
  }
  auto m = std::make_unique<Membership>(kRejoinConfig, self, "m:" + std::to_string(self), 1);
  EXPECT_TRUE(m->Bootstrap(members, edges).ok());
  return m;
}

TEST(RejoinMembership, LoserJoinsAgainThroughTheSameMemberUnderANewId) {
  // Ids are handed out by rank (graph_policy.h NextJoinId): member 0 admits "j:0" as
  // 4 and then the loser "j:b" as 5; member 1, rank 1, admits the winner "j:a" as 5.
  auto m0 = Member(0, 4);
  auto m1 = Member(1, 4);
  ASSERT_EQ(m0->HandleJoin(proto::JoinRequest{"j:0", 0}, kRejoinStart).first.assigned_id, 4u);
  const auto [reply_b, acts_b] = m0->HandleJoin(proto::JoinRequest{"j:b", 0}, kRejoinStart);
  const auto [reply_a, acts_a] = m1->HandleJoin(proto::JoinRequest{"j:a", 0}, kRejoinStart);
  ASSERT_TRUE(reply_b.accepted);
  ASSERT_TRUE(reply_a.accepted);
  ASSERT_EQ(reply_b.assigned_id, reply_a.assigned_id);
  const NodeId lost = reply_b.assigned_id;
  auto loser = std::make_unique<Membership>(kRejoinConfig, proto::kNoNode, "j:b", 7);
  ASSERT_TRUE(loser->ApplyJoinReply(reply_b, kRejoinStart).ok());

  // The loser hears the winner's record first (from anyone) and goes inert.
  proto::MembershipUpdate winner;
  winner.members = {{lost, "j:a", MemberState::kAlive, 0}};
  const Actions lost_actions =
      loser->OnMessage(1, proto::Envelope{1, 0, {}, winner}, kRejoinStart + milliseconds(5));
  ASSERT_TRUE(loser->conflicted());
  bool conflict = false;
  for (const Event& e : lost_actions.events) conflict |= e.kind == EventKind::kIdConflict;
  EXPECT_TRUE(conflict);

  RejoinPolicy policy;
  ASSERT_EQ(policy.OnLost(lost, kRejoinStart + milliseconds(5)), Decision::kRetry);

  // Member 0 has not heard yet: for it the loser's address still owns the id, so a
  // re-join is treated as a retry and gets the lost id back. The policy refuses it.
  TimePoint now = kRejoinStart + milliseconds(255);
  ASSERT_TRUE(policy.Due(now));
  policy.StartAttempt(now);
  const auto [early, unused] = m0->HandleJoin(proto::JoinRequest{"j:b", 0}, now);
  ASSERT_TRUE(early.accepted);
  EXPECT_EQ(early.assigned_id, lost);
  EXPECT_FALSE(policy.Acceptable(early.assigned_id));
  ASSERT_EQ(policy.OnAttemptFailed(now), Decision::kRetry);

  // Member 0 hears of the winner; the next attempt gets a fresh id.
  m0->OnMessage(1, proto::Envelope{1, 0, {}, winner}, now);
  EXPECT_EQ(m0->table().Find(lost)->addr, "j:a");
  now += policy.PauseBefore(2);
  ASSERT_TRUE(policy.Due(now));
  EXPECT_EQ(policy.StartAttempt(now), 2);
  const auto [fresh, acts] = m0->HandleJoin(proto::JoinRequest{"j:b", 0}, now);
  ASSERT_TRUE(fresh.accepted);
  EXPECT_NE(fresh.assigned_id, lost);
  EXPECT_TRUE(policy.Acceptable(fresh.assigned_id));

  // A fresh Membership (the old one is inert for good) adopts the new id.
  EXPECT_FALSE(loser->ApplyJoinReply(fresh, now).ok());
  auto again = std::make_unique<Membership>(kRejoinConfig, proto::kNoNode, "j:b", 8);
  ASSERT_TRUE(again->ApplyJoinReply(fresh, now).ok());
  policy.OnJoined();
  EXPECT_EQ(again->self(), fresh.assigned_id);
  EXPECT_FALSE(again->conflicted());
  EXPECT_FALSE(again->LiveNeighbours().empty());
  // The winner's record for the lost id is just another member to the new instance.
  const Actions later =
      again->OnMessage(1, proto::Envelope{1, 0, {}, winner}, now + milliseconds(1));
  EXPECT_FALSE(again->conflicted());
  for (const Event& e : later.events) EXPECT_NE(e.kind, EventKind::kIdConflict);
  EXPECT_FALSE(policy.rejoining());
}

}  // namespace
}  // namespace grapevine::agent::core
