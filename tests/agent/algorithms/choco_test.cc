// choco against fake contexts: a ring of fakes reaches consensus with compressed
// gossip (sign, topk, q8) and keeps the mean; a neighbour that missed updates is
// re-seeded by a snapshot; a garbage or out-of-step update is rejected, counted and
// answered by a snapshot request while training goes on; the γ tuner.
#include <gtest/gtest.h>

#include <cmath>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/choco_gamma.h"
#include "agent/algorithms/registry.h"
#include "fake_context.h"

namespace grapevine::agent::algorithms {
namespace {

std::vector<proto::Edge> RingEdges(int n) {
  std::vector<proto::Edge> e;
  for (int i = 0; i < n; ++i) {
    const auto a = static_cast<proto::NodeId>(i), b = static_cast<proto::NodeId>((i + 1) % n);
    e.push_back({std::min(a, b), std::max(a, b)});
  }
  return e;
}

// An undirected ring of n fakes with Metropolis weights 1/3, per-node initial models,
// lr ~0: only the gossip moves x.
class Ring {
 public:
  Ring(int n, const std::string& compress) {
    const AlgoSpec spec = *FindAlgorithm("choco");
    for (int i = 0; i < n; ++i) {
      ctx_.push_back(std::make_unique<FakeContext>(spec, MakeTestTrainer(20 + i, 1e-9),
                                                   static_cast<proto::NodeId>(i)));
      auto options = ResolveOptions(spec, {{"compress", compress}});
      EXPECT_TRUE(options.ok()) << options.status().ToString();
      algo_.push_back(spec.factory(*options));
    }
    mean_ = Eigen::VectorXf::Zero(ctx_[0]->trainer().params().size());
    for (int i = 0; i < n; ++i) {
      FakeContext& c = *ctx_[i];
      c.shared = false;
      const auto left = static_cast<proto::NodeId>((i + n - 1) % n);
      const auto right = static_cast<proto::NodeId>((i + 1) % n);
      c.out = c.in = {left, right};
      c.mixing = {{left, 1.0 / 3}, {right, 1.0 / 3}};
      c.edges = RingEdges(n);
      c.deliver = [this](proto::NodeId to, const ChannelMessage& m, Channel ch) {
        EXPECT_EQ(ch, Channel::kCompressedGossip);
        if (drop && drop(to, m)) return;
        ctx_[to]->inbox[ch].push_back(m);
      };
      mean_ += c.trainer().params() / static_cast<float>(n);
      algo_[i]->Start(c, nullptr);
    }
  }

  void Rounds(uint64_t from, uint64_t to) {
    for (uint64_t r = from; r < to; ++r) {
      for (size_t i = 0; i < ctx_.size(); ++i) {
        ASSERT_TRUE(algo_[i]->RunRound(*ctx_[i], r, 1).ok());
      }
    }
  }

  // Largest distance of an agent to the initial mean, relative to the initial spread.
  double Spread() const {
    double worst = 0;
    for (const auto& c : ctx_) {
      worst = std::max(worst, static_cast<double>((c->trainer().params() - mean_).norm()));
    }
    return worst / mean_.norm();
  }

  // Largest distance of an agent to the agents' current mean, relative to the initial
  // mean's norm: consensus, wherever it is (a step that left out a neighbour whose copy
  // was not exact moves the mean a little).
  double Disagreement() const {
    Eigen::VectorXf now = Eigen::VectorXf::Zero(mean_.size());
    for (const auto& c : ctx_) now += c->trainer().params() / static_cast<float>(ctx_.size());
    double worst = 0;
    for (const auto& c : ctx_) {
      worst = std::max(worst, static_cast<double>((c->trainer().params() - now).norm()));
    }
    return worst / mean_.norm();
  }

  FakeContext& ctx(size_t i) { return *ctx_[i]; }
  Algorithm& algo(size_t i) { return *algo_[i]; }
  std::function<bool(proto::NodeId, const ChannelMessage&)> drop;

 private:
  std::vector<std::unique_ptr<FakeContext>> ctx_;
  std::vector<std::unique_ptr<Algorithm>> algo_;
  Eigen::VectorXf mean_;
};

class ChocoCodecTest : public ::testing::TestWithParam<const char*> {};

TEST_P(ChocoCodecTest, RingReachesTheMeanOfTheInitialModels) {
  Ring ring(6, GetParam());
  const double start = ring.Spread();
  ring.Rounds(0, 400);
  EXPECT_GT(start, 0.3);
  EXPECT_LT(ring.Disagreement(), 0.01 * start) << GetParam();
  // Near the initial mean: the fakes run one after the other, so i mixes with j's copy
  // of the previous tick while j mixes with i's new one, and the mean drifts a little.
  EXPECT_LT(ring.Spread(), 0.2 * start) << GetParam();
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(IntMetric(ring.algo(i), "updates_rejected"), 0);
    // Nothing lost: no snapshot needed (with `none` every message is a snapshot; the
    // first one from each neighbour counts).
    EXPECT_EQ(IntMetric(ring.algo(i), "resyncs"), std::string(GetParam()) == "none" ? 2 : 0);
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, ChocoCodecTest,
                         ::testing::Values("none", "q8", "q4", "sign", "topk:0.1", "randk:0.2"));

TEST(ChocoTest, ANeighbourThatMissedUpdatesIsReseededAndConsensusHolds) {
  Ring ring(6, "sign");
  ring.ctx(0).unreachable = {1};  // 0's updates do not reach 1 for 20 rounds
  ring.Rounds(0, 20);
  ring.ctx(0).unreachable.clear();
  ring.Rounds(20, 400);
  EXPECT_GE(IntMetric(ring.algo(1), "resyncs"), 1);  // 1 got 0's public copy
  EXPECT_EQ(IntMetric(ring.algo(1), "updates_rejected"), 0);
  EXPECT_LT(ring.Disagreement(), 0.02);
  EXPECT_LT(ring.Spread(), 0.6);  // the mean moved, but not far
}

TEST(ChocoTest, AnUpdateLostInFlightIsDetectedByTheHashAndReseeded) {
  Ring ring(4, "q8");
  int dropped = 0;
  // The network accepted it, then lost it: the sender believes 2 holds its copy.
  ring.drop = [&](proto::NodeId to, const ChannelMessage& m) {
    if (to == 2 && m.from == 1 && m.model->purpose == proto::ModelPurpose::kChocoUpdate &&
        m.model->round == 7) {
      ++dropped;
      return true;
    }
    return false;
  };
  ring.Rounds(0, 300);
  EXPECT_EQ(dropped, 1);
  EXPECT_GE(IntMetric(ring.algo(2), "updates_rejected"), 1);  // the next update's hash failed
  EXPECT_GE(IntMetric(ring.algo(2), "resyncs"), 1);           // then 1 sent its copy
  EXPECT_LT(ring.Disagreement(), 0.02);
}

TEST(ChocoTest, GarbageUpdatesAreRejectedCountedAndTrainingGoesOn) {
  Ring ring(4, "topk:0.1");
  ring.Rounds(0, 5);
  const Eigen::VectorXf before = ring.ctx(0).trainer().params();
  auto bad = [&](auto mutate) {
    auto m = std::make_shared<proto::ModelPayload>();
    m->origin = 1;
    m->purpose = proto::ModelPurpose::kChocoUpdate;
    m->round = 5;
    m->codec = proto::TensorCodec::kTopK;
    m->codec_param = 0.1f;
    m->packed.assign(40, 0xff);
    mutate(*m);
    ring.ctx(0).inbox[Channel::kCompressedGossip].push_back({1, m, nullptr});
  };
  bad([](proto::ModelPayload&) {});                                      // random bytes
  bad([](proto::ModelPayload& m) { m.codec = proto::TensorCodec::kFloat32; });  // no codec
  bad([](proto::ModelPayload& m) { m.codec_param = 7.0f; });            // fraction > 1
  const int sends_before = ring.ctx(0).sends;
  ASSERT_TRUE(ring.algo(0).RunRound(ring.ctx(0), 5, 1).ok());
  EXPECT_GE(IntMetric(ring.algo(0), "updates_rejected"), 1);
  EXPECT_GT(ring.ctx(0).sends, sends_before);  // its update, and a snapshot request to 1
  EXPECT_TRUE(ring.ctx(0).trainer().params().allFinite());
  EXPECT_GT((ring.ctx(0).trainer().params() - before).norm(), 0);  // still gossiping
  ring.Rounds(6, 300);
  EXPECT_LT(ring.Disagreement(), 0.02);  // re-seeded from 1's snapshot
  EXPECT_GE(IntMetric(ring.algo(0), "resyncs"), 1);
}

TEST(ChocoTest, RejectsBadOptions) {
  const AlgoSpec spec = *FindAlgorithm("choco");
  for (const char* bad : {"topk:0", "topk:1.5", "q9", ""}) {
    auto r = ResolveOptions(spec, {{"compress", bad}});
    EXPECT_FALSE(r.ok()) << bad;
  }
  EXPECT_FALSE(ResolveOptions(spec, {{"choco-gamma", "1.5"}}).ok());
  EXPECT_FALSE(ResolveOptions(spec, {{"choco-every", "-1"}}).ok());
  EXPECT_TRUE(ResolveOptions(spec, {{"compress", "randk:0.05"}, {"choco-gamma", "0.2"}}).ok());
}

TEST(ChocoGammaTest, TunedOnTheRealGraphAndCodecDeterministically) {
  const auto edges = RingEdges(8);
  const merge::CodecSpec sign = *merge::ParseCodec("topk:0.01");
  const merge::CodecSpec none = *merge::ParseCodec("none");
  const GammaTuning s = TuneChocoGamma(edges, 0, sign, 1);
  const GammaTuning s2 = TuneChocoGamma(edges, 0, sign, 1);
  const GammaTuning u = TuneChocoGamma(edges, 0, none, 1);
  EXPECT_EQ(s.gamma, s2.gamma);
  EXPECT_EQ(s.nodes, 8);
  EXPECT_LT(s.error, 0.5);
  EXPECT_GE(u.gamma, 0.5);         // exact gossip: a large step is best
  EXPECT_LT(s.gamma, u.gamma);     // a coarse codec needs a smaller one
  // The chosen γ is no worse than its neighbours on the grid.
  EXPECT_LE(s.error, ChocoGossipError(edges, 0, sign, s.gamma * 2.0, 1, 150, s.dims) + 1e-12);
  EXPECT_EQ(TuneChocoGamma({}, 3, sign, 1).gamma, 1.0);  // alone: nothing to agree with
}

}  // namespace
}  // namespace grapevine::agent::algorithms
