// Unit tests of the Mailbox hand-over between the network and training threads,
// single-threaded: newest model per origin, and Reset() after a lost id (nothing sent
// to the old identity survives, the generation tells the trainer to forget).
#include "agent/mailbox.h"

#include <memory>
#include <set>

#include <gtest/gtest.h>

namespace grapevine::agent {
namespace {

using algorithms::Channel;

Mailbox::ModelPtr Model(proto::NodeId origin, uint64_t round) {
  auto m = std::make_shared<proto::ModelPayload>();
  m->origin = origin;
  m->round = round;
  return m;
}

TEST(Mailbox, NewestModelPerOriginWins) {
  Mailbox box;
  box.Put(Model(1, 3));
  box.Put(Model(1, 4));
  box.Put(Model(2, 3));
  uint64_t generation = 99;
  auto got = box.TakeAll(&generation);
  EXPECT_EQ(generation, 0u);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got.at(1)->round, 4u);
  EXPECT_EQ(box.superseded(), 1u);
  EXPECT_TRUE(box.TakeAll().empty());
}

TEST(Mailbox, ResetDropsEverythingOfTheOldIdentityAndStartsANewGeneration) {
  Mailbox box;
  box.Put(Model(1, 3));
  box.PutOnChannel(Channel::kCrossGradientRequest, {2, Model(2, 3), nullptr});
  box.PutOnChannel(Channel::kCrossGradientReply,
                   {3, nullptr, std::make_shared<proto::CrossGradient>()});
  box.Reset();
  EXPECT_EQ(box.generation(), 1u);
  uint64_t generation = 0;
  EXPECT_TRUE(box.TakeAll(&generation).empty());
  EXPECT_EQ(generation, 1u);
  EXPECT_TRUE(box.TakeChannel(Channel::kCrossGradientRequest).empty());
  EXPECT_TRUE(box.TakeChannel(Channel::kCrossGradientReply).empty());
  EXPECT_EQ(box.received(), 1u);  // counters survive

  // What arrives afterwards belongs to the new generation.
  box.Put(Model(5, 4));
  auto got = box.TakeAll(&generation);
  EXPECT_EQ(generation, 1u);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->first, 5u);
}

TEST(Mailbox, ForgetPeerDropsOneNeighbourAndTellsTheTrainer) {
  Mailbox box;
  box.Put(Model(5, 90));  // from the agent that lost id 5
  box.Put(Model(6, 3));
  box.PutOnChannel(Channel::kCrossGradientRequest, {5, Model(5, 90), nullptr});
  box.PutOnChannel(Channel::kPushShare, {5, Model(5, 90), nullptr});
  box.PutOnChannel(Channel::kPushShare, {6, Model(6, 3), nullptr});
  box.ForgetPeer(5);
  EXPECT_EQ(box.TakeForgotten(), std::set<proto::NodeId>{5});
  EXPECT_TRUE(box.TakeForgotten().empty());
  auto got = box.TakeAll();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got.begin()->first, 6u);
  EXPECT_TRUE(box.TakeChannel(Channel::kCrossGradientRequest).empty());
  auto shares = box.TakeChannel(Channel::kPushShare);
  ASSERT_EQ(shares.size(), 1u);
  EXPECT_EQ(shares[0].from, 6u);
  EXPECT_EQ(box.generation(), 0u);  // our own identity did not change
}

TEST(Mailbox, AChannelKeepsTheNewestPerSenderOrEveryMessage) {
  Mailbox box;
  // Requests: a newer one from the same sender replaces the older.
  box.PutOnChannel(Channel::kCrossGradientRequest, {1, Model(1, 3), nullptr});
  box.PutOnChannel(Channel::kCrossGradientRequest, {1, Model(1, 4), nullptr});
  box.PutOnChannel(Channel::kCrossGradientRequest, {2, Model(2, 4), nullptr});
  auto requests = box.TakeChannel(Channel::kCrossGradientRequest);
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].model->round, 4u);
  // Push-sum shares: every one is kept, oldest first, up to the bound.
  box.PutOnChannel(Channel::kPushShare, {1, Model(1, 3), nullptr});
  box.PutOnChannel(Channel::kPushShare, {1, Model(1, 4), nullptr});
  auto shares = box.TakeChannel(Channel::kPushShare);
  ASSERT_EQ(shares.size(), 2u);
  EXPECT_EQ(shares[0].model->round, 3u);
  for (size_t i = 0; i < Mailbox::kMaxPerChannel + 3; ++i) {
    box.PutOnChannel(Channel::kPushShare, {1, Model(1, i), nullptr});
  }
  shares = box.TakeChannel(Channel::kPushShare);
  ASSERT_EQ(shares.size(), Mailbox::kMaxPerChannel);
  EXPECT_EQ(shares.front().model->round, 3u);
  EXPECT_EQ(box.channel_dropped(), 3u);
}

}  // namespace
}  // namespace grapevine::agent
