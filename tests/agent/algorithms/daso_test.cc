// daso against fake contexts: the schedule (phases, plateau halving, reset), the two
// tiers from the file's groups, the delta and faithful merges computed by hand, the
// staleness bound, and the checkpoint blob.
#include <gtest/gtest.h>

#include <memory>
#include <tuple>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/daso_schedule.h"
#include "agent/algorithms/registry.h"
#include "fake_context.h"

namespace grapevine::agent::algorithms {
namespace {

std::tuple<int, int, int> GsLsBtw(const DasoSchedule& s) { return {s.gs(), s.ls(), s.btw()}; }

TEST(DasoScheduleTest, PhasesByRound) {
  DasoSchedule s(DasoSettings{2, 3, 4, 1, 1}, 10);
  const DasoPhase want[10] = {DasoPhase::kWarmup,   DasoPhase::kWarmup,  DasoPhase::kCycling,
                              DasoPhase::kCycling,  DasoPhase::kCycling, DasoPhase::kCycling,
                              DasoPhase::kCycling,  DasoPhase::kCooldown, DasoPhase::kCooldown,
                              DasoPhase::kCooldown};
  for (uint64_t r = 0; r < 10; ++r) {
    s.BeginRound(r);
    EXPECT_EQ(s.phase(), want[r]) << "round " << r;
    EXPECT_EQ(s.blocking(), want[r] != DasoPhase::kCycling) << "round " << r;
  }
  // Without a known length there is no cool-down.
  DasoSchedule open(DasoSettings{1, 3, 4, 1, 1}, std::nullopt);
  open.BeginRound(100);
  EXPECT_EQ(open.phase(), DasoPhase::kCycling);
}

TEST(DasoScheduleTest, PlateausHalveThenResetAtOne) {
  DasoSchedule s(DasoSettings{0, 0, 4, 1, 1}, std::nullopt);
  s.BeginRound(0);
  EXPECT_EQ(GsLsBtw(s), std::make_tuple(4, 1, 1));
  // Improving by more than 5 % every round: no change.
  for (double loss : {2.0, 1.8, 1.6, 1.4}) EXPECT_FALSE(s.EndRound(loss));
  // Flat: the third round without a 5 % improvement on the best (1.4) is a plateau.
  EXPECT_FALSE(s.EndRound(1.39));
  EXPECT_FALSE(s.EndRound(1.38));
  EXPECT_TRUE(s.EndRound(1.37));
  EXPECT_EQ(GsLsBtw(s), std::make_tuple(2, 1, 1));
  for (int k = 0; k < 2; ++k) EXPECT_FALSE(s.EndRound(1.37));
  EXPECT_TRUE(s.EndRound(1.37));
  EXPECT_EQ(GsLsBtw(s), std::make_tuple(1, 1, 1));
  for (int k = 0; k < 2; ++k) EXPECT_FALSE(s.EndRound(1.37));
  EXPECT_TRUE(s.EndRound(1.37));
  EXPECT_EQ(GsLsBtw(s), std::make_tuple(8, 2, 2));  // twice the start values
  // Blocking phases never change the values.
  DasoSchedule w(DasoSettings{5, 0, 4, 1, 1}, std::nullopt);
  w.BeginRound(0);
  for (int k = 0; k < 5; ++k) EXPECT_FALSE(w.EndRound(1.0));
}

TEST(DasoScheduleTest, StateRoundTrips) {
  DasoSchedule s(DasoSettings{0, 0, 4, 1, 1}, std::nullopt);
  s.BeginRound(0);
  for (double loss : {1.0, 1.0, 1.0, 1.0}) s.EndRound(loss);  // one plateau: (2, 1, 1)
  DasoSchedule t(DasoSettings{0, 0, 4, 1, 1}, std::nullopt);
  t.Restore(s.Save());
  t.BeginRound(1);
  EXPECT_EQ(GsLsBtw(t), std::make_tuple(2, 1, 1));
  // Same plateau state: both halve on the same later round.
  for (int k = 0; k < 3; ++k) EXPECT_EQ(s.EndRound(1.0), t.EndRound(1.0)) << k;
  EXPECT_EQ(GsLsBtw(t), GsLsBtw(s));
}

struct DasoDelivery {
  proto::NodeId from, to;
  Channel channel;
  std::shared_ptr<const proto::ModelPayload> model;
};

// n fakes on a complete graph with the file's `groups`, delivering to each other.
class DasoFakes {
 public:
  DasoFakes(std::optional<std::map<proto::NodeId, std::string>> groups, int n,
        std::map<std::string, std::string> options) {
    spec_ = *FindAlgorithm("daso");
    options_ = *ResolveOptions(spec_, options);
    for (int i = 0; i < n; ++i) {
      const auto id = static_cast<proto::NodeId>(i);
      auto c = std::make_unique<FakeContext>(spec_, MakeTestTrainer(20 + id, 0.05), id);
      c->groups = groups;
      for (int j = 0; j < n; ++j) {
        c->members.push_back(static_cast<proto::NodeId>(j));
        if (j == i) continue;
        c->in.push_back(static_cast<proto::NodeId>(j));
        c->out.push_back(static_cast<proto::NodeId>(j));
      }
      c->deliver = [this, id](proto::NodeId to, const ChannelMessage& m, Channel ch) {
        sent.push_back({id, to, ch, m.model});
        if (ch == Channel::kModelGossip) return;  // the fake's exchange uses neighbour_models
        for (auto& other : ctx_) {
          if (other->self() == to) other->inbox[ch].push_back(m);
        }
      };
      ctx_.push_back(std::move(c));
      algo_.push_back(spec_.factory(options_));
    }
    // Every fake sees the complete graph.
    std::vector<proto::Edge> all;
    for (int a = 0; a < n; ++a) {
      for (int b = a + 1; b < n; ++b) {
        all.push_back({static_cast<proto::NodeId>(a), static_cast<proto::NodeId>(b)});
      }
    }
    for (auto& c : ctx_) c->edges = all;
    for (size_t i = 0; i < ctx_.size(); ++i) algo_[i]->Start(*ctx_[i], nullptr);
  }

  FakeContext& ctx(size_t i) { return *ctx_[i]; }
  Algorithm& algo(size_t i) { return *algo_[i]; }
  // Round `round` of `steps` steps on every agent, in id order.
  void Round(uint64_t round, int steps) {
    for (size_t i = 0; i < ctx_.size(); ++i) {
      ASSERT_TRUE(algo_[i]->RunRound(*ctx_[i], round, steps).ok());
    }
  }

  std::vector<DasoDelivery> sent;

 private:
  AlgoSpec spec_;
  OptionValues options_;
  std::vector<std::unique_ptr<FakeContext>> ctx_;
  std::vector<std::unique_ptr<Algorithm>> algo_;
};

Eigen::VectorXf SnapshotValues(const proto::ModelPayload& m) {
  return Eigen::Map<const Eigen::VectorXf>(m.values.data(),
                                           static_cast<Eigen::Index>(m.values.size()));
}

const std::map<std::string, std::string> kDasoCycleEveryStep = {
    {"daso-warmup", "0"}, {"daso-cooldown", "0"}, {"daso-gs", "1"}, {"daso-btw", "1"}};

// Two agents in two groups: at tick 0 each sends its snapshot; at tick 1 each merges
// the other's against its own of tick 0. By hand, with the same trainers run alone
// (x2 = two local steps), w = 1/2 (Metropolis, one global neighbour each):
//   delta     x ← x2 + ½ (y − s)
//   faithful  x ← (2·x2 + s + y) / 4     (k = btw = 1, P = 2)
void CheckDasoMerge(const std::string& rule) {
  auto options = kDasoCycleEveryStep;
  options["daso-merge"] = rule;
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2, options);
  s.Round(0, 1);
  ASSERT_EQ(s.sent.size(), 2u);
  for (const DasoDelivery& d : s.sent) EXPECT_EQ(d.channel, Channel::kGlobalSnapshot);
  const Eigen::VectorXf s0 = SnapshotValues(*s.sent[0].model), s1 = SnapshotValues(*s.sent[1].model);
  s.Round(1, 1);
  auto alone = MakeTestTrainer(20, 0.05);
  alone->Step();
  EXPECT_EQ((alone->params() - s0).cwiseAbs().maxCoeff(), 0.0f);  // tick 0 merged nothing
  alone->Step();
  const Eigen::VectorXf x2 = alone->params();
  const Eigen::VectorXf want = rule == "delta" ? Eigen::VectorXf(x2 + 0.5f * (s1 - s0))
                                               : Eigen::VectorXf((2.0f * x2 + s0 + s1) / 4.0f);
  EXPECT_LT((s.ctx(0).trainer().params() - want).cwiseAbs().maxCoeff(), 1e-6f) << rule;
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 1);
  EXPECT_EQ(IntMetric(s.algo(0), "snapshots_sent_global_tier"), 2);
  EXPECT_EQ(IntMetric(s.algo(0), "exchanges_local_tier"), 0);
  EXPECT_EQ(s.ctx(0).merges, 1);
}

TEST(DasoTest, DeltaMergeKeepsLocalProgress) { CheckDasoMerge("delta"); }
TEST(DasoTest, FaithfulMergeIsHeatsRule) { CheckDasoMerge("faithful"); }

TEST(DasoTest, SnapshotWaitsBtwSteps) {
  auto options = kDasoCycleEveryStep;
  options["daso-btw"] = "3";
  options["daso-gs"] = "8";
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2, options);
  for (uint64_t r = 0; r < 3; ++r) {
    s.Round(r, 1);
    EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 0) << "tick " << r;
  }
  s.Round(3, 1);  // tick 3 = 0 + btw
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 1);
}

// A neighbour ahead of us (its tick 5 while we are at 1) is merged on arrival, against
// our snapshot of tick 0: btw counts from our paired snapshot, not from its tick.
TEST(DasoTest, ANeighbourAheadIsMergedOnArrival) {
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2, kDasoCycleEveryStep);
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 0, 1).ok());  // our snapshot of tick 0
  auto ahead = std::make_shared<proto::ModelPayload>();
  ahead->origin = 1;
  ahead->round = 5;
  ahead->values.assign(static_cast<size_t>(s.ctx(0).trainer().params().size()), 0.0f);
  s.ctx(0).inbox[Channel::kGlobalSnapshot].push_back({1, ahead, nullptr});
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 1, 1).ok());
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 1);
}

// After a merge at tick 1, a neighbour's snapshot that pairs with our snapshot of tick 0
// (taken before that merge) is dropped — the gap it measures is closed; one that pairs
// with our snapshot of tick 1 (taken after the merge) is merged.
TEST(DasoTest, OneCorrectionPerDisagreement) {
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2, kDasoCycleEveryStep);
  const size_t n = static_cast<size_t>(s.ctx(0).trainer().params().size());
  auto snapshot = [&](uint64_t round) {
    auto m = std::make_shared<proto::ModelPayload>();
    m->origin = 1;
    m->round = round;
    m->values.assign(n, 0.0f);
    s.ctx(0).inbox[Channel::kGlobalSnapshot].push_back({1, m, nullptr});
  };
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 0, 1).ok());  // our snapshot of tick 0
  snapshot(0);
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 1, 1).ok());  // merged at tick 1
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 1);
  snapshot(0);  // pairs with our tick 0 < 1: dropped
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 2, 1).ok());
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 1);
  EXPECT_EQ(IntMetric(s.algo(0), "snapshots_stale"), 1);
  snapshot(2);  // pairs with our tick 2
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 3, 1).ok());
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 2);
}

TEST(DasoTest, StaleSnapshotsAreDroppedAndCounted) {
  auto options = kDasoCycleEveryStep;
  options["daso-staleness"] = "2";
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2, options);
  auto old = std::make_shared<proto::ModelPayload>();
  old->origin = 1;
  old->round = 0;
  old->values.assign(static_cast<size_t>(s.ctx(0).trainer().params().size()), 1.0f);
  s.ctx(0).inbox[Channel::kGlobalSnapshot].push_back({1, old, nullptr});
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 5, 1).ok());  // tick 5 > 0 + 2
  EXPECT_EQ(IntMetric(s.algo(0), "snapshots_stale"), 1);
  EXPECT_EQ(IntMetric(s.algo(0), "merges_global_tier"), 0);
}

// Groups {0, 1} and {2}: node 0 averages with 1 every step (blocking, model gossip) and
// sends 2 a snapshot every gs = 2 steps on the global channel.
TEST(DasoTest, TiersFollowTheGroups) {
  auto options = kDasoCycleEveryStep;
  options["daso-gs"] = "2";
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "a"}, {2, "b"}}, 3, options);
  s.ctx(0).mixing = {{1, 0.25}};  // the Node's row; daso uses its own group weights
  const Eigen::VectorXf v = Eigen::VectorXf::Constant(s.ctx(0).trainer().params().size(), 0.5f);
  s.ctx(0).neighbour_models[1] = v;
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 0, 1).ok());
  auto alone = MakeTestTrainer(20, 0.05);
  alone->Step();
  // Inside the group {0, 1} on the edge 0-1: both have one local neighbour, w = 1/2.
  const Eigen::VectorXf want = 0.5f * alone->params() + 0.5f * v;
  EXPECT_LT((s.ctx(0).trainer().params() - want).cwiseAbs().maxCoeff(), 1e-6f);
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 1, 1).ok());
  int local = 0, global = 0;
  for (const DasoDelivery& d : s.sent) {
    if (d.channel == Channel::kModelGossip) {
      EXPECT_EQ(d.to, 1u);
      ++local;
    } else {
      EXPECT_EQ(d.channel, Channel::kGlobalSnapshot);
      EXPECT_EQ(d.to, 2u);
      ++global;
    }
  }
  EXPECT_EQ(local, 2);   // ticks 0 and 1
  EXPECT_EQ(global, 1);  // tick 0 only
  EXPECT_EQ(IntMetric(s.algo(0), "exchanges_local_tier"), 2);
}

TEST(DasoTest, WithoutGroupsEveryNeighbourIsLocal) {
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, ""}, {1, ""}, {2, ""}}, 3, kDasoCycleEveryStep);
  s.Round(0, 2);
  for (const DasoDelivery& d : s.sent) EXPECT_EQ(d.channel, Channel::kModelGossip);
  EXPECT_EQ(s.sent.size(), 3u * 2u * 2u);  // 3 agents, 2 neighbours, 2 steps
  EXPECT_EQ(IntMetric(s.algo(0), "snapshots_sent_global_tier"), 0);
}

TEST(DasoTest, AJoinerPutsEveryNeighbourInTheGlobalTier) {
  DasoFakes s(std::nullopt, 2, kDasoCycleEveryStep);
  s.Round(0, 1);
  for (const DasoDelivery& d : s.sent) EXPECT_EQ(d.channel, Channel::kGlobalSnapshot);
  EXPECT_EQ(s.sent.size(), 2u);
}

TEST(DasoTest, WarmupAveragesWithEveryNeighbourEveryStep) {
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2,
          {{"daso-warmup", "1"}, {"daso-cooldown", "0"}});
  s.ctx(0).mixing = {{1, 0.5}};
  s.ctx(0).neighbour_models[1] = Eigen::VectorXf::Zero(s.ctx(0).trainer().params().size());
  ASSERT_TRUE(s.algo(0).RunRound(s.ctx(0), 0, 3).ok());
  EXPECT_EQ(s.ctx(0).published.size(), 3u);  // Publish + Exchange each step
  EXPECT_EQ(IntMetric(s.algo(0), "exchanges_blocking"), 3);
  EXPECT_EQ(IntMetric(s.algo(0), "snapshots_sent_global_tier"), 0);
  EXPECT_EQ(IntMetric(s.algo(0), "daso_phase"), static_cast<int64_t>(DasoPhase::kWarmup));
}

TEST(DasoTest, CheckpointBlobRoundTripsAndGarbageIsRefused) {
  DasoFakes s(std::map<proto::NodeId, std::string>{{0, "a"}, {1, "b"}}, 2, kDasoCycleEveryStep);
  s.Round(0, 1);
  const std::vector<uint8_t> blob = s.algo(0).SaveState();
  EXPECT_EQ(blob.size(), 32u);
  EXPECT_TRUE(s.algo(1).LoadState(blob).ok());
  EXPECT_FALSE(s.algo(1).LoadState(std::vector<uint8_t>(31, 0)).ok());
  EXPECT_FALSE(s.algo(1).LoadState(std::vector<uint8_t>(32, 0)).ok());  // gs = 0
}

TEST(DasoTest, OptionsAreChecked) {
  const AlgoSpec spec = *FindAlgorithm("daso");
  EXPECT_FALSE(ResolveOptions(spec, {{"daso-merge", "average"}}).ok());
  EXPECT_FALSE(ResolveOptions(spec, {{"daso-gs", "0"}}).ok());
  EXPECT_FALSE(ResolveOptions(spec, {{"daso-warmup", "-1"}}).ok());
  EXPECT_TRUE(ResolveOptions(spec, {{"daso-merge", "faithful"}, {"daso-ls", "2"}}).ok());
}

}  // namespace
}  // namespace grapevine::agent::algorithms
