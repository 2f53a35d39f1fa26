// sgp against fake contexts: one agent's push-sum share and de-bias by hand, an
// undelivered share staying with the sender, and swarms of fakes on a directed ring
// and on a strongly connected digraph: Σ w (agents + shares in flight) stays n to
// 1e-6 and the de-biased models reach the mean of the initial models.
#include <gtest/gtest.h>

#include <cmath>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/registry.h"
#include "fake_context.h"

namespace grapevine::agent::algorithms {
namespace {

double PushWeight(const Algorithm& a) {
  for (const auto& m : a.Metrics()) {
    if (m.name == "push_weight") return std::get<double>(m.value);
  }
  ADD_FAILURE() << "no push_weight metric";
  return 0;
}

struct OneAgent {
  OneAgent() : spec(*FindAlgorithm("sgp")), ctx(spec, MakeTestTrainer(3), 0),
               twin(MakeTestTrainer(3)), sgp(spec.factory(*ResolveOptions(spec, {}))) {
    ctx.out = {1, 2};
    ctx.in = {1};
    ctx.deliver = [this](proto::NodeId to, const ChannelMessage& m, Channel c) {
      EXPECT_EQ(c, Channel::kPushShare);
      sent.emplace_back(to, *m.model);
    };
  }
  // A share from in-neighbour 1, already in the inbox when we push.
  Eigen::VectorXf Arrive(uint64_t tick, double weight) {
    auto share = std::make_shared<proto::ModelPayload>();
    share->origin = 1;
    share->round = tick;
    share->push_weight = weight;
    const Eigen::VectorXf v = Eigen::VectorXf::Constant(ctx.trainer().params().size(), 0.2f);
    share->values.assign(v.data(), v.data() + v.size());
    ctx.inbox[Channel::kPushShare].push_back({1, share, nullptr});
    return v;
  }
  AlgoSpec spec;
  FakeContext ctx;
  std::unique_ptr<learn::Trainer> twin;
  std::unique_ptr<Algorithm> sgp;
  std::vector<std::pair<proto::NodeId, proto::ModelPayload>> sent;
};

TEST(SgpTest, SharesAThirdWithTwoOutNeighboursSumsArrivalsAndDebiases) {
  OneAgent a;
  a.sgp->Start(a.ctx, nullptr);
  const Eigen::VectorXf v = a.Arrive(/*tick=*/1, 0.5);
  ASSERT_TRUE(a.sgp->RunRound(a.ctx, 0, 2).ok());  // push after step 2: tick 0·2 + 1
  a.twin->Step();
  a.twin->Step();  // w = 1 until the push: z = x, the steps are the twin's
  const Eigen::VectorXf share = a.twin->params() / 3.0f;
  ASSERT_EQ(a.sent.size(), 2u);
  EXPECT_EQ(a.sent[0].first, 1u);
  EXPECT_EQ(a.sent[1].first, 2u);
  for (const auto& [to, m] : a.sent) {
    EXPECT_NEAR(m.push_weight, 1.0 / 3, 1e-12);
    EXPECT_EQ(m.round, 1u);
    Eigen::Map<const Eigen::VectorXf> values(m.values.data(), share.size());
    EXPECT_LT((values - share).cwiseAbs().maxCoeff(), 1e-6f);
  }
  const double w = 1.0 / 3 + 0.5;
  EXPECT_NEAR(PushWeight(*a.sgp), w, 1e-12);
  const Eigen::VectorXf z = (share + v) / static_cast<float>(w);
  EXPECT_LT((a.ctx.trainer().params() - z).cwiseAbs().maxCoeff(), 1e-5f);
  EXPECT_EQ(a.ctx.merges, 1);
  EXPECT_EQ(a.ctx.trainer().optimizer().steps(), 2);  // row: keep
}

TEST(SgpTest, AShareThatCouldNotBeDeliveredStaysWithTheSender) {
  OneAgent a;
  a.ctx.unreachable = {2};
  a.sgp->Start(a.ctx, nullptr);
  ASSERT_TRUE(a.sgp->RunRound(a.ctx, 0, 1).ok());
  a.twin->Step();
  ASSERT_EQ(a.sent.size(), 1u);
  EXPECT_NEAR(PushWeight(*a.sgp), 2.0 / 3, 1e-12);  // own share + the undelivered one
  // z is unchanged by the push when nothing arrived: x and w were scaled alike.
  EXPECT_LT((a.ctx.trainer().params() - a.twin->params()).cwiseAbs().maxCoeff(), 1e-5f);
}

// n fakes whose sends land in each other's inboxes; lr ~0 (it must be > 0) so only the gossip moves x.
class Swarm {
 public:
  explicit Swarm(const std::vector<std::vector<proto::NodeId>>& out) {
    const AlgoSpec spec = *FindAlgorithm("sgp");
    const size_t n = out.size();
    for (size_t i = 0; i < n; ++i) {
      ctx_.push_back(std::make_unique<FakeContext>(spec, MakeTestTrainer(10 + i, 1e-9),
                                                   static_cast<proto::NodeId>(i)));
      algo_.push_back(spec.factory(*ResolveOptions(spec, {})));
    }
    mean_ = Eigen::VectorXf::Zero(ctx_[0]->trainer().params().size());
    for (size_t i = 0; i < n; ++i) {
      FakeContext& c = *ctx_[i];
      c.out = out[i];
      for (size_t j = 0; j < n; ++j) {
        for (proto::NodeId k : out[j]) {
          if (k == i) c.in.push_back(static_cast<proto::NodeId>(j));
        }
      }
      c.deliver = [this](proto::NodeId to, const ChannelMessage& m, Channel ch) {
        ctx_[to]->inbox[ch].push_back(m);
      };
      mean_ += c.trainer().params() / static_cast<float>(n);
      algo_[i]->Start(c, nullptr);
    }
  }

  void Round(uint64_t r) {
    for (size_t i = 0; i < ctx_.size(); ++i) ASSERT_TRUE(algo_[i]->RunRound(*ctx_[i], r, 1).ok());
  }

  // Σ w over the agents and the shares still in their inboxes.
  double TotalWeight() const {
    double total = 0;
    for (size_t i = 0; i < ctx_.size(); ++i) {
      total += PushWeight(*algo_[i]);
      auto it = ctx_[i]->inbox.find(Channel::kPushShare);
      if (it == ctx_[i]->inbox.end()) continue;
      for (const auto& m : it->second) total += m.model->push_weight;
    }
    return total;
  }

  double WorstDistanceToMean() const {
    double worst = 0;
    for (const auto& c : ctx_) {
      worst = std::max(worst, static_cast<double>((c->trainer().params() - mean_).norm()));
    }
    return worst / mean_.norm();
  }

  FakeContext& ctx(size_t i) { return *ctx_[i]; }

 private:
  std::vector<std::unique_ptr<FakeContext>> ctx_;
  std::vector<std::unique_ptr<Algorithm>> algo_;
  Eigen::VectorXf mean_;
};

TEST(SgpTest, DirectedRingConservesMassAndReachesTheMean) {
  Swarm swarm({{1}, {2}, {3}, {0}});  // 0 → 1 → 2 → 3 → 0
  const double start = swarm.WorstDistanceToMean();
  for (uint64_t r = 0; r < 80; ++r) {
    swarm.Round(r);
    ASSERT_NEAR(swarm.TotalWeight(), 4.0, 1e-6) << "round " << r;
  }
  EXPECT_GT(start, 0.1);
  EXPECT_LT(swarm.WorstDistanceToMean(), 1e-3);
}

TEST(SgpTest, RandomStronglyConnectedDigraphWithALostLinkConservesMass) {
  // Strongly connected (0→1→2→3→4→0 plus chords), not symmetric, unequal out-degrees.
  Swarm swarm({{1, 3}, {2}, {3, 0, 4}, {4}, {0, 2}});
  swarm.ctx(2).unreachable = {4};  // a dead link for the first rounds: shares stay home
  for (uint64_t r = 0; r < 100; ++r) {
    if (r == 10) swarm.ctx(2).unreachable.clear();
    swarm.Round(r);
    ASSERT_NEAR(swarm.TotalWeight(), 5.0, 1e-6) << "round " << r;
  }
  EXPECT_LT(swarm.WorstDistanceToMean(), 1e-3);
}

}  // namespace
}  // namespace grapevine::agent::algorithms
