#include "agent/core/algorithms/consensus.h"

#include <gtest/gtest.h>

#include <vector>

namespace grapevine::agent::algorithms {
namespace {

Eigen::VectorXf Vec(std::initializer_list<float> v) {
  Eigen::VectorXf x(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (float f : v) x[i++] = f;
  return x;
}

TEST(MixInPlaceTest, MissingNeighboursWeightStaysWithSelf) {
  Eigen::VectorXf x = Vec({3, 0});
  Eigen::VectorXf a = Vec({0, 3});
  std::vector<WeightedVector> n = {{&a, 1.0 / 3}};  // the second neighbour did not arrive
  MixInPlace(n, &x);
  EXPECT_FLOAT_EQ(x[0], 2.0f);
  EXPECT_FLOAT_EQ(x[1], 1.0f);
}

TEST(MixInPlaceTest, NoNeighboursLeavesModel) {
  Eigen::VectorXf x = Vec({1, 2});
  MixInPlace({}, &x);
  EXPECT_EQ(x, Vec({1, 2}));
}

// The lasgd rule: the exchange started at snapshot s; meanwhile the agent took local
// steps (x = s + progress). The correction is computed on the snapshots only, and
// the progress is kept.
TEST(DeltaAddTest, KeepsLocalStepsTakenDuringTheExchange) {
  const Eigen::VectorXf s = Vec({1, 1, 1});
  const Eigen::VectorXf progress = Vec({0.5f, -0.25f, 2});
  Eigen::VectorXf x = s + progress;
  const Eigen::VectorXf a = Vec({4, 1, -2});
  const Eigen::VectorXf b = Vec({1, 7, 1});
  std::vector<WeightedVector> n = {{&a, 1.0 / 3}, {&b, 1.0 / 3}};
  DeltaAdd(s, n, &x);
  // mix(s) = (s + a + b) / 3 = (2, 3, 0); x = mix(s) + progress.
  const Eigen::VectorXf expected = Vec({2, 3, 0}) + progress;
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(x[i], expected[i], 1e-6) << i;
}

TEST(DeltaAddTest, NoProgressEqualsPlainMix) {
  const Eigen::VectorXf s = Vec({2, -1});
  const Eigen::VectorXf a = Vec({0, 1});
  std::vector<WeightedVector> n = {{&a, 0.5}};
  Eigen::VectorXf x = s;
  DeltaAdd(s, n, &x);
  Eigen::VectorXf mixed = s;
  MixInPlace(n, &mixed);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(x[i], mixed[i], 1e-6);
}

TEST(DeltaAddTest, StaleSnapshotNotLiveModelIsTheReference) {
  // With a neighbour equal to the snapshot the correction is zero, whatever the
  // live model did: a rule that averaged the live model would move x.
  const Eigen::VectorXf s = Vec({0, 0});
  Eigen::VectorXf x = Vec({5, 5});
  std::vector<WeightedVector> n = {{&s, 0.5}};
  DeltaAdd(s, n, &x);
  EXPECT_EQ(x, Vec({5, 5}));
}

TEST(CombineThenAdaptTest, MixesPreStepModelAndAddsOwnUpdate) {
  const Eigen::VectorXf before = Vec({1, 1});
  Eigen::VectorXf x = Vec({0.9f, 1.2f});  // after the local step: update (−0.1, +0.2)
  const Eigen::VectorXf a = Vec({3, -1});
  std::vector<WeightedVector> n = {{&a, 0.5}};
  CombineThenAdapt(before, n, &x);
  EXPECT_NEAR(x[0], 2.0f - 0.1f, 1e-6);
  EXPECT_NEAR(x[1], 0.0f + 0.2f, 1e-6);
}

}  // namespace
}  // namespace grapevine::agent::algorithms
