// Each plug-in's update rule against a fake context (fake_context.h): the neighbours'
// models are fixed vectors, the expected parameters are computed by hand from a twin
// trainer (same seed, same batches) that takes the same local steps. No sockets, no
// clock, no sleeps.
#include <gtest/gtest.h>

#include <cmath>

#include "agent/algorithms/algorithm.h"
#include "agent/algorithms/registry.h"
#include "fake_context.h"

namespace grapevine::agent::algorithms {
namespace {

constexpr float kTol = 1e-5f;

struct Bench {
  explicit Bench(const std::string& name, std::map<std::string, std::string> options = {},
                 uint64_t init_seed = 3)
      : spec(*FindAlgorithm(name)),
        ctx(spec, MakeTestTrainer(init_seed), /*self=*/0),
        twin(MakeTestTrainer(init_seed)),
        algorithm(spec.factory(*ResolveOptions(spec, options))) {}
  // Two neighbours with fixed models and weights 0.25 / 0.375.
  void TwoNeighbours() {
    const auto n = ctx.trainer().params().size();
    ctx.mixing = {{1, 0.25}, {2, 0.375}};
    ctx.neighbour_models[1] = Eigen::VectorXf::Constant(n, 1.0f);
    ctx.neighbour_models[2] = Eigen::VectorXf::LinSpaced(n, -2.0f, 2.0f);
  }
  // x ← (1 − Σw) x + Σ w_j x_j, by hand.
  Eigen::VectorXf Mixed(const Eigen::VectorXf& x) {
    return 0.375f * x + 0.25f * ctx.neighbour_models[1] + 0.375f * ctx.neighbour_models[2];
  }
  // Σ w_j (x_j − s), by hand.
  Eigen::VectorXf Correction(const Eigen::VectorXf& s) {
    return 0.25f * (ctx.neighbour_models[1] - s) + 0.375f * (ctx.neighbour_models[2] - s);
  }
  AlgoSpec spec;
  FakeContext ctx;
  std::unique_ptr<learn::Trainer> twin;
  std::unique_ptr<Algorithm> algorithm;
};

void ExpectNear(const Eigen::VectorXf& got, const Eigen::VectorXf& want) {
  ASSERT_EQ(got.size(), want.size());
  EXPECT_LT((got - want).cwiseAbs().maxCoeff(), kTol);
}

TEST(PluginsTest, WaMixesOncePerRound) {
  Bench s("wa");
  s.TwoNeighbours();
  s.algorithm->Start(s.ctx, nullptr);
  ASSERT_TRUE(s.algorithm->RunRound(s.ctx, 5, 3).ok());
  for (int i = 0; i < 3; ++i) s.twin->Step();
  ExpectNear(s.ctx.trainer().params(), s.Mixed(s.twin->params()));
  ASSERT_EQ(s.ctx.published.size(), 1u);
  EXPECT_EQ(s.ctx.published[0].first, 5u);
  EXPECT_EQ(s.ctx.merges, 1);
}

TEST(PluginsTest, OptimizerPolicyOfTheRowIsObeyedAfterAMerge) {
  // wa's row says reset: the momentum buffer is dropped by the merge.
  Bench reset("wa");
  reset.TwoNeighbours();
  ASSERT_TRUE(reset.algorithm->RunRound(reset.ctx, 0, 3).ok());
  EXPECT_EQ(reset.ctx.trainer().optimizer().steps(), 0);
  // The same plug-in under a row that says keep: the state survives the merge.
  AlgoSpec keep_row = reset.spec;
  keep_row.optimizer_policy = OptimizerPolicy::kKeep;
  FakeContext keep(keep_row, MakeTestTrainer(3), 0);
  keep.mixing = reset.ctx.mixing;
  keep.neighbour_models = reset.ctx.neighbour_models;
  auto wa = keep_row.factory(*ResolveOptions(keep_row, {}));
  ASSERT_TRUE(wa->RunRound(keep, 0, 3).ok());
  EXPECT_EQ(keep.trainer().optimizer().steps(), 3);
  EXPECT_GT(keep.trainer().optimizer().first_moment().norm(), 0.0f);
}

TEST(PluginsTest, DpsgdStepsThenMixesEveryStep) {
  Bench s("dpsgd");
  s.TwoNeighbours();
  ASSERT_TRUE(s.algorithm->RunRound(s.ctx, 1, 2).ok());
  for (int i = 0; i < 2; ++i) {
    s.twin->Step();
    s.twin->mutable_params() = s.Mixed(s.twin->params());
  }
  ExpectNear(s.ctx.trainer().params(), s.twin->params());
  ASSERT_EQ(s.ctx.published.size(), 2u);
  EXPECT_EQ(s.ctx.published[1].first, 3u);  // tick = round * steps + step
  EXPECT_EQ(s.ctx.trainer().optimizer().steps(), 2);  // kept (row: keep)
}

TEST(PluginsTest, CdsgdAddsTheLocalUpdateToTheMixOfThePreStepModel) {
  Bench s("cdsgd");
  s.TwoNeighbours();
  ASSERT_TRUE(s.algorithm->RunRound(s.ctx, 0, 2).ok());
  for (int i = 0; i < 2; ++i) {
    const Eigen::VectorXf before = s.twin->params();
    s.twin->Step();
    s.twin->mutable_params() += s.Correction(before);
  }
  ExpectNear(s.ctx.trainer().params(), s.twin->params());
}

TEST(PluginsTest, LasgdAddsTheSnapshotCorrectionToTheLiveModel) {
  Bench s("lasgd", {{"merge-every", "1"}});
  s.TwoNeighbours();
  s.ctx.nonblocking_polls_pending = 1;  // the first exchange is still open one step later
  ASSERT_TRUE(s.algorithm->RunRound(s.ctx, 0, 3).ok());
  // Step 1 snapshots s1; step 2: not done yet, then due again: wait, x2 + Σw(x_j − s1),
  // snapshot s2; step 3: done without waiting, x3 + Σw(x_j − s2), snapshot s3.
  s.twin->Step();
  Eigen::VectorXf snapshot = s.twin->params();
  for (int i = 0; i < 2; ++i) {
    s.twin->Step();
    s.twin->mutable_params() += s.Correction(snapshot);
    snapshot = s.twin->params();
  }
  ExpectNear(s.ctx.trainer().params(), s.twin->params());
  ASSERT_EQ(s.ctx.published.size(), 3u);
  EXPECT_EQ(s.ctx.published[2].first, 2u);  // lasgd ticks count exchanges
}

TEST(PluginsTest, LocalNeverCommunicates) {
  Bench s("local");
  s.TwoNeighbours();
  ASSERT_TRUE(s.algorithm->RunRound(s.ctx, 0, 4).ok());
  for (int i = 0; i < 4; ++i) s.twin->Step();
  ExpectNear(s.ctx.trainer().params(), s.twin->params());
  EXPECT_TRUE(s.ctx.published.empty());
  EXPECT_EQ(s.ctx.sends, 0);
}

TEST(PluginsTest, CgaWithoutAnswersMixesThenStepsWithTheOwnGradient) {
  Bench s("cga");
  s.TwoNeighbours();
  ASSERT_TRUE(s.algorithm->RunRound(s.ctx, 0, 1).ok());
  s.twin->ComputeGradient();
  const Eigen::VectorXf g = s.twin->gradient();
  s.twin->mutable_params() = s.Mixed(s.twin->params());
  s.twin->ApplyGradient(g);
  ExpectNear(s.ctx.trainer().params(), s.twin->params());
  ASSERT_EQ(s.ctx.published.size(), 1u);
  EXPECT_EQ(s.ctx.published[0].second, Channel::kCrossGradientRequest);
}

TEST(PluginsTest, CgaAnswersARequestWithTheGradientOfTheAskedModel) {
  Bench s("cga");
  auto request = std::make_shared<proto::ModelPayload>();
  request->origin = 4;
  request->version = 17;
  const Eigen::VectorXf theirs = s.twin->params() * 0.5f;
  request->values.assign(theirs.data(), theirs.data() + theirs.size());
  s.ctx.inbox[Channel::kCrossGradientRequest].push_back({4, request, nullptr});
  std::vector<std::pair<proto::NodeId, proto::CrossGradient>> sent;
  s.ctx.deliver = [&](proto::NodeId to, const ChannelMessage& m, Channel c) {
    EXPECT_EQ(c, Channel::kCrossGradientReply);
    sent.emplace_back(to, *m.gradient);
  };
  s.algorithm->Serve(s.ctx);
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].first, 4u);
  EXPECT_EQ(sent[0].second.origin, 4u);
  EXPECT_EQ(sent[0].second.version, 17u);
  EXPECT_EQ(static_cast<int64_t>(sent[0].second.values.size()), theirs.size());
  const auto metrics = s.algorithm->Metrics();
  ASSERT_EQ(metrics.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(metrics[0].value), 1);
}

TEST(PluginsTest, AlignedMergesStartInTheirFrameAndStampIt) {
  Bench shared("dimat", {{"probe-samples", "20"}});
  shared.ctx.shared = true;
  shared.algorithm->Start(shared.ctx, nullptr);
  proto::ModelPayload m;
  shared.algorithm->Stamp(&m);
  EXPECT_EQ(m.frame, 0u);

  const AlgoSpec wm_row = *FindAlgorithm("wm");
  FakeContext per_node(wm_row, MakeTestTrainer(3), /*self=*/6);
  per_node.shared = false;
  auto wm = wm_row.factory(*ResolveOptions(wm_row, {}));
  wm->Start(per_node, nullptr);
  wm->Stamp(&m);
  EXPECT_EQ(m.frame, 6u);
  wm->OnNewIdentity({6}, 9);  // the lost id named our own frame: renamed to the new id
  wm->Stamp(&m);
  EXPECT_EQ(m.frame, 9u);

  proto::ModelPayload transfer;  // a joiner continues in its state transfer's frame
  transfer.frame = 2;
  wm->Start(per_node, &transfer);
  wm->Stamp(&m);
  EXPECT_EQ(m.frame, 2u);
}

}  // namespace
}  // namespace grapevine::agent::algorithms
