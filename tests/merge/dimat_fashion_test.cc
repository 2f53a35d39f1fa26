// DIMAT on real data: two MLPs trained from different seeds on the same 10k
// Fashion-MNIST examples. Plain averaging of unaligned networks destroys much of
// what they learned; activation-aligned averaging keeps most of it. Skipped when
// Debian's dataset-fashion-mnist package is not installed.
#include <gtest/gtest.h>

#include <cstdio>
#include <numeric>

#include "learn/data.h"
#include "learn/model.h"
#include "learn/trainer.h"
#include "merge/average.h"
#include "merge/dimat.h"
#include "merge/weight_matching.h"

namespace grapevine::merge {
namespace {

constexpr char kSpec[] = "mlp:784-256-128-10";

Eigen::VectorXf TrainOneEpoch(const learn::Dataset& shard, uint64_t seed) {
  auto model = learn::ParseModel(kSpec, shard.shape, shard.num_classes);
  GV_CHECK(model.ok());
  learn::TrainerOptions options;
  options.batch_size = 64;
  options.learning_rate = 0.05;
  options.optimizer.momentum = 0.9f;
  options.seed = seed;
  auto trainer = learn::Trainer::Create(std::move(model).value(), shard, options);
  GV_CHECK(trainer.ok());
  (*trainer)->TrainEpoch();
  return (*trainer)->params();
}

TEST(DimatFashionTest, AlignedMergeBeatsPlainAverage) {
  Result<learn::DataSplit> data = learn::LoadData("fashion-mnist", 1);
  if (!data.ok() && data.status().code() == StatusCode::kNotFound) {
    GTEST_SKIP() << data.status().ToString();
  }
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  std::vector<int64_t> first(10000);
  std::iota(first.begin(), first.end(), int64_t{0});
  const learn::Dataset shard = data->train.Subset(first);
  const Eigen::MatrixXf probe = shard.Dense().leftCols(2000);

  const Eigen::VectorXf a = TrainOneEpoch(shard, 1);
  const Eigen::VectorXf b = TrainOneEpoch(shard, 2);
  auto model = learn::ParseModel(kSpec, shard.shape, shard.num_classes);
  ASSERT_TRUE(model.ok());
  learn::Model& m = **model;

  const Eigen::VectorXf* both[] = {&a, &b};
  const double half[] = {0.5, 0.5};
  Eigen::VectorXf plain;
  ASSERT_TRUE(WeightedAverage(both, half, &plain).ok());

  // Probe: 2,000 of agent a's own training examples.
  const NeighbourModel nb[] = {{&b, 0.5}};
  Result<MergeResult> dimat =
      DimatMerge(m, a, 0.5, nb, probe, {.repair = RepairMode::kOff});
  ASSERT_TRUE(dimat.ok()) << dimat.status().ToString();
  Result<MergeResult> repaired = DimatMerge(m, a, 0.5, nb, probe);
  ASSERT_TRUE(repaired.ok()) << repaired.status().ToString();
  Result<MergeResult> wm = WeightMatchingMerge(m.layout(), m.symmetry(), a, 0.5, nb);
  ASSERT_TRUE(wm.ok()) << wm.status().ToString();

  const double acc_a = learn::Evaluate(m, a, data->test).accuracy;
  const double acc_b = learn::Evaluate(m, b, data->test).accuracy;
  const double acc_plain = learn::Evaluate(m, plain, data->test).accuracy;
  const double acc_dimat = learn::Evaluate(m, dimat->params, data->test).accuracy;
  const double acc_wm = learn::Evaluate(m, wm->params, data->test).accuracy;
  const double acc_repaired = learn::Evaluate(m, repaired->params, data->test).accuracy;
  std::printf("test accuracy: a %.4f  b %.4f  plain average %.4f  DIMAT %.4f  DIMAT+REPAIR "
              "%.4f  weight matching %.4f  (DIMAT mean matched corr %.3f / %.3f, merge %.3f s)\n",
              acc_a, acc_b, acc_plain, acc_dimat, acc_repaired, acc_wm,
              dimat->stats.match_scores[0][0], dimat->stats.match_scores[0][1],
              dimat->stats.seconds);
  // Measured (seed pairs 1/2, 3/4, 5/6, 7/8): DIMAT beats plain averaging by 15–28
  // points; assert a margin well below that.
  EXPECT_GT(acc_dimat, acc_plain + 0.08);
  // REPAIR (the default) on top: 0.7803 vs 0.7707 for seeds 1/2. It must not cost
  // accuracy here; its gains are larger where averaging shrinks units more
  // (docs/algorithms.md).
  EXPECT_GT(acc_repaired, acc_dimat - 0.01);
  EXPECT_GT(acc_wm, acc_plain);
}

}  // namespace
}  // namespace grapevine::merge
