// efficient-adam against fake contexts (a group of fakes handing each other their
// messages), and GroupView: groups, leaders, joiners and the leader graph. A group
// holds one model bit for bit; a lost leader step is caught by the hash and healed by
// the group model; garbage is rejected and counted; a dead leader is replaced by the
// next id, which re-seeds its group; a joiner follows the leader that adopts it.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/group_view.h"
#include "agent/algorithms/registry.h"
#include "fake_context.h"

namespace grapevine::agent::algorithms {
namespace {

std::vector<proto::Edge> Ring(const std::vector<proto::NodeId>& ids) {
  std::vector<proto::Edge> e;
  for (size_t i = 0; i < ids.size(); ++i) {
    const proto::NodeId a = ids[i], b = ids[(i + 1) % ids.size()];
    e.push_back({std::min(a, b), std::max(a, b)});
  }
  return e;
}

// n fakes with the file's groups (all "" by default), a ring, a shared initial model.
class Group {
 public:
  explicit Group(int n, const std::string& compress = "q4") {
    spec_ = *FindAlgorithm("efficient-adam");
    options_ = *ResolveOptions(spec_, {{"compress", compress}});
    for (int i = 0; i < n; ++i) {
      std::map<proto::NodeId, std::string> named;
      for (int j = 0; j < n; ++j) named[static_cast<proto::NodeId>(j)] = "";
      Add(static_cast<proto::NodeId>(i), named, /*init_seed=*/20);
    }
    SetLive(ids_);
  }

  // A new agent: `named` nullopt for a joiner (no topology file).
  void Add(proto::NodeId id, std::optional<std::map<proto::NodeId, std::string>> named,
           uint64_t init_seed) {
    auto c = std::make_unique<FakeContext>(spec_, MakeTestTrainer(init_seed, 0.05), id);
    c->groups = std::move(named);
    c->shared = true;
    c->deliver = [this, id](proto::NodeId to, const ChannelMessage& m, Channel ch) {
      if (drop && drop(id, to, m)) return;
      for (auto& other : ctx_) {
        if (other->self() == to) other->inbox[ch].push_back(m);
      }
    };
    ctx_.push_back(std::move(c));
    algo_.push_back(spec_.factory(options_));
    ids_.push_back(id);
    started_.push_back(false);
  }

  // Who is alive and the ring between them, as every agent's membership sees it.
  void SetLive(const std::vector<proto::NodeId>& live) {
    live_ = live;
    for (auto& c : ctx_) {
      c->members = live;
      c->edges = Ring(live);
    }
  }

  // One optimizer step per tick: the followers first, then the leader, as a slow leader
  // would be seen (the followers' waits end at the fake's deadline at once).
  void Ticks(uint64_t from, uint64_t to, proto::NodeId leader) {
    for (size_t i = 0; i < ctx_.size(); ++i) {
      if (!started_[i] && Live(ids_[i])) {
        algo_[i]->Start(*ctx_[i], nullptr);
        started_[i] = true;
      }
    }
    for (uint64_t t = from; t < to; ++t) {
      for (size_t i = 0; i < ctx_.size(); ++i) {
        if (ids_[i] != leader && Live(ids_[i])) {
          ASSERT_TRUE(algo_[i]->RunRound(*ctx_[i], t, 1).ok());
        }
      }
      for (size_t i = 0; i < ctx_.size(); ++i) {
        if (ids_[i] == leader) {
          ASSERT_TRUE(algo_[i]->RunRound(*ctx_[i], t, 1).ok());
        }
      }
    }
    for (size_t i = 0; i < ctx_.size(); ++i) {
      if (Live(ids_[i])) algo_[i]->Serve(*ctx_[i]);  // the last leader step
    }
  }

  bool Live(proto::NodeId id) const {
    return std::find(live_.begin(), live_.end(), id) != live_.end();
  }
  const Eigen::VectorXf& params(size_t i) const { return ctx_[i]->trainer().params(); }
  FakeContext& ctx(size_t i) { return *ctx_[i]; }
  Algorithm& algo(size_t i) { return *algo_[i]; }

  // (from, to, message) → true drops it.
  std::function<bool(proto::NodeId, proto::NodeId, const ChannelMessage&)> drop;

 private:
  AlgoSpec spec_;
  OptionValues options_;
  std::vector<std::unique_ptr<FakeContext>> ctx_;
  std::vector<std::unique_ptr<Algorithm>> algo_;
  std::vector<proto::NodeId> ids_, live_;
  std::vector<bool> started_;
};

std::vector<proto::MemberRecord> Live(const std::vector<proto::NodeId>& ids,
                                      const std::map<proto::NodeId, uint64_t>& inc = {}) {
  std::vector<proto::MemberRecord> out;
  for (proto::NodeId id : ids) {
    auto it = inc.find(id);
    out.push_back({id, "", proto::MemberState::kAlive, it == inc.end() ? 0 : it->second});
  }
  return out;
}

double Diff(const Eigen::VectorXf& a, const Eigen::VectorXf& b) {
  return (a - b).cwiseAbs().maxCoeff();
}

TEST(EfficientAdamTest, AGroupHoldsOneModelAndTrains) {
  Group g(4);
  const Eigen::VectorXf start = g.params(0);
  g.Ticks(0, 30, /*leader=*/0);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(Diff(g.params(i), g.params(0)), 0.0) << "node " << i;
  EXPECT_GT(Diff(g.params(0), start), 1e-3);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(IntMetric(g.algo(i), "group_leader"), 0);
    EXPECT_EQ(IntMetric(g.algo(i), "updates_rejected"), 0);
    EXPECT_EQ(IntMetric(g.algo(i), "resyncs"), 0);  // a shared start needs no snapshot
  }
  EXPECT_EQ(IntMetric(g.algo(0), "group_members"), 4);
}

TEST(EfficientAdamTest, ALostLeaderStepIsCaughtByTheHashAndHealed) {
  Group g(4);
  g.drop = [](proto::NodeId from, proto::NodeId to, const ChannelMessage& m) {
    return from == 0 && to == 2 && m.model->purpose == proto::ModelPurpose::kLeaderUpdate &&
           m.model->round == 5;
  };
  g.Ticks(0, 40, 0);
  EXPECT_GE(IntMetric(g.algo(2), "updates_rejected"), 1);  // Δ6 did not fit its model
  EXPECT_EQ(IntMetric(g.algo(2), "resyncs"), 1);           // the group model re-seeded it
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(Diff(g.params(i), g.params(0)), 0.0) << "node " << i;
}

TEST(EfficientAdamTest, GarbageStepsAreRejectedAndTrainingGoesOn) {
  Group g(3);
  g.Ticks(0, 3, 0);
  // A member step whose blocks are cut short, and a leader step from a non-leader.
  auto bad = std::make_shared<proto::ModelPayload>();
  bad->purpose = proto::ModelPurpose::kWorkerUpdate;
  bad->round = 3;
  bad->codec = proto::TensorCodec::kQ4;
  bad->codec_param = 1;
  bad->packed = {1, 2, 3};
  g.ctx(0).inbox[Channel::kGroupUpdate].push_back({1, bad, nullptr});
  auto stray = std::make_shared<proto::ModelPayload>(*bad);
  stray->purpose = proto::ModelPurpose::kLeaderUpdate;
  g.ctx(1).inbox[Channel::kGroupUpdate].push_back({2, stray, nullptr});
  g.Ticks(3, 10, 0);
  EXPECT_EQ(IntMetric(g.algo(0), "updates_rejected"), 1);
  EXPECT_EQ(IntMetric(g.algo(1), "updates_rejected"), 0);  // not its leader's: ignored
  for (size_t i = 1; i < 3; ++i) EXPECT_EQ(Diff(g.params(i), g.params(0)), 0.0) << "node " << i;
}

TEST(EfficientAdamTest, TheNextIdLeadsWhenTheLeaderDiesAndReseedsTheGroup) {
  Group g(4);
  g.Ticks(0, 10, 0);
  g.SetLive({1, 2, 3});
  g.Ticks(10, 25, 1);
  for (size_t i = 1; i < 4; ++i) {
    EXPECT_EQ(IntMetric(g.algo(i), "group_leader"), 1) << "node " << i;
    EXPECT_EQ(Diff(g.params(i), g.params(1)), 0.0) << "node " << i;
  }
  EXPECT_EQ(IntMetric(g.algo(2), "resyncs"), 1);
  EXPECT_EQ(IntMetric(g.algo(1), "group_members"), 3);
}

TEST(EfficientAdamTest, AJoinerFollowsTheLeaderThatSendsItTheGroupModel) {
  Group g(3);
  g.Ticks(0, 5, 0);
  g.Add(7, std::nullopt, /*init_seed=*/99);  // its own model, no topology file
  g.SetLive({0, 1, 2, 7});
  EXPECT_GT(Diff(g.params(3), g.params(0)), 1e-3);
  g.Ticks(5, 20, 0);
  EXPECT_EQ(IntMetric(g.algo(3), "group_leader"), 0);
  EXPECT_EQ(IntMetric(g.algo(0), "group_members"), 4);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(Diff(g.params(i), g.params(0)), 0.0) << "node " << i;
}

TEST(EfficientAdamTest, NoneIsRefused) {
  const AlgoSpec spec = *FindAlgorithm("efficient-adam");
  auto none = ResolveOptions(spec, {{"compress", "none"}});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("dpsgd --optimizer adam"), std::string::npos);
  EXPECT_TRUE(ResolveOptions(spec, {{"compress", "topk:0.05"}}).ok());
}

TEST(GroupViewTest, LeadersJoinersAndTheLeaderGraph) {
  // Groups a = {0, 1, 2}, b = {3, 4}, c = {5}; ring 0-1-2-3-4-5-0; joiner 9 next to 4
  // and 1 (its lowest named neighbour is 1: group a).
  const std::map<proto::NodeId, std::string> named = {{0, "a"}, {1, "a"}, {2, "a"},
                                                      {3, "b"}, {4, "b"}, {5, "c"}};
  std::vector<proto::Edge> edges = Ring({0, 1, 2, 3, 4, 5});
  edges.push_back({1, 9});
  edges.push_back({4, 9});
  const GroupView v = GroupView::Compute(named, Live({0, 1, 2, 3, 4, 5, 9}), edges);
  EXPECT_EQ(v.LeaderOf(2), 0u);
  EXPECT_EQ(v.LeaderOf(4), 3u);
  EXPECT_EQ(v.LeaderOf(5), 5u);
  EXPECT_EQ(v.GroupOf(9), "a");
  EXPECT_EQ(v.Followers(0), (std::vector<proto::NodeId>{1, 2, 9}));
  EXPECT_TRUE(v.LeaderRow(1).empty());  // not a leader
  // Leader graph: a-b (2-3), b-c (4-5), c-a (5-0), and a-b again through 9: a triangle,
  // every leader of degree 2, Metropolis 1/3.
  EXPECT_EQ(v.leader_edges().size(), 3u);
  const auto row = v.LeaderRow(0);
  ASSERT_EQ(row.size(), 2u);
  for (const auto& [id, w] : row) EXPECT_DOUBLE_EQ(w, 1.0 / 3);
  EXPECT_EQ(v.group_count(), 3u);

  // The leader of a dies: 1 leads; a joiner with no named neighbour is alone, leaderless.
  const GroupView after =
      GroupView::Compute(named, Live({1, 2, 3, 4, 5, 8}), Ring({1, 2, 3, 4, 5}));
  EXPECT_EQ(after.LeaderOf(2), 1u);
  EXPECT_FALSE(after.LeaderOf(8).has_value());
  EXPECT_FALSE(after.LeaderOf(0).has_value());  // not live
  EXPECT_EQ(after.group_count(), 4u);

  // No groups in the file: one group, no leader graph.
  const std::map<proto::NodeId, std::string> flat = {{0, ""}, {1, ""}, {2, ""}};
  const GroupView one = GroupView::Compute(flat, Live({0, 1, 2}), Ring({0, 1, 2}));
  EXPECT_EQ(one.LeaderOf(2), 0u);
  EXPECT_TRUE(one.leader_edges().empty());
  EXPECT_TRUE(one.LeaderRow(0).empty());

  // Node 0 restarted (a higher incarnation): 1, which kept training, keeps the lead.
  const GroupView restarted =
      GroupView::Compute(flat, Live({0, 1, 2}, {{0, 3}}), Ring({0, 1, 2}));
  EXPECT_EQ(restarted.LeaderOf(0), 1u);
}

}  // namespace
}  // namespace grapevine::agent::algorithms
