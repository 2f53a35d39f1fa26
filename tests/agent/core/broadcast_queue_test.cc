#include "agent/core/broadcast_queue.h"

#include <string>

#include <gtest/gtest.h>

namespace grapevine::agent::core {
namespace {

TEST(BroadcastQueue, EachItemSentAtMostLimitTimes) {
  BroadcastQueue<std::string> q;
  q.Push(1, "a");
  int sent = 0;
  for (int i = 0; i < 10; ++i) sent += static_cast<int>(q.Take(8, /*limit=*/3).size());
  EXPECT_EQ(sent, 3);
  EXPECT_TRUE(q.empty());
}

TEST(BroadcastQueue, NewerUpdateAboutSameKeyReplacesOlderAndResetsCount) {
  BroadcastQueue<std::string> q;
  q.Push(7, "suspect");
  EXPECT_EQ(q.Take(8, 3), std::vector<std::string>{"suspect"});
  q.Push(7, "alive");
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.Take(8, 3), std::vector<std::string>{"alive"});
  EXPECT_EQ(q.Take(8, 3), std::vector<std::string>{"alive"});
  EXPECT_EQ(q.Take(8, 3), std::vector<std::string>{"alive"});  // 3 sends after the reset
  EXPECT_TRUE(q.Take(8, 3).empty());
}

TEST(BroadcastQueue, FewestSentFirstThenNewest) {
  BroadcastQueue<std::string> q;
  q.Push(1, "old");
  EXPECT_EQ(q.Take(1, 5), std::vector<std::string>{"old"});  // old: 1 send
  q.Push(2, "mid");
  q.Push(3, "new");
  // new and mid have 0 sends (newest first), old comes last.
  EXPECT_EQ(q.Take(3, 5), (std::vector<std::string>{"new", "mid", "old"}));
  EXPECT_EQ(q.Take(1, 5), std::vector<std::string>{"new"});
  // mid: 1 send; new and old: 2 sends each, new is newer.
  EXPECT_EQ(q.Take(2, 5), (std::vector<std::string>{"mid", "new"}));
}

TEST(BroadcastQueue, TakeRespectsMax) {
  BroadcastQueue<int> q;
  for (int i = 0; i < 10; ++i) q.Push(i, i);
  EXPECT_EQ(q.Take(4, 2).size(), 4u);
  EXPECT_EQ(q.Take(100, 2).size(), 10u);
  EXPECT_EQ(q.size(), 6u);  // the four taken twice are gone
}

}  // namespace
}  // namespace grapevine::agent::core
