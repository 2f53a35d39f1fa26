#include "merge/average.h"

#include <gtest/gtest.h>

#include <limits>

namespace grapevine::merge {
namespace {

TEST(WeightedAverageTest, ComputesConvexCombination) {
  Eigen::VectorXf a(3), b(3), c(3);
  a << 1, 2, 3;
  b << 4, 5, 6;
  c << -1, 0, 1;
  const Eigen::VectorXf* models[] = {&a, &b, &c};
  const double weights[] = {0.5, 0.25, 0.25};
  Eigen::VectorXf out;
  ASSERT_TRUE(WeightedAverage(models, weights, &out).ok());
  Eigen::VectorXf expected(3);
  expected << 0.5f + 1.0f - 0.25f, 1.0f + 1.25f, 1.5f + 1.5f + 0.25f;
  EXPECT_TRUE(out.isApprox(expected, 1e-6f)) << out.transpose();
}

TEST(WeightedAverageTest, OutputMayAliasInput) {
  Eigen::VectorXf a = Eigen::VectorXf::Constant(4, 2.0f);
  Eigen::VectorXf b = Eigen::VectorXf::Constant(4, 4.0f);
  const Eigen::VectorXf* models[] = {&a, &b};
  const double weights[] = {0.5, 0.5};
  ASSERT_TRUE(WeightedAverage(models, weights, &a).ok());
  EXPECT_TRUE(a.isApproxToConstant(3.0f));
}

TEST(WeightedAverageTest, RejectsBadInput) {
  Eigen::VectorXf a = Eigen::VectorXf::Ones(4), b = Eigen::VectorXf::Ones(5);
  Eigen::VectorXf out = Eigen::VectorXf::Zero(2);
  const Eigen::VectorXf* mismatched[] = {&a, &b};
  const double half[] = {0.5, 0.5};
  EXPECT_EQ(WeightedAverage(mismatched, half, &out).code(), StatusCode::kInvalidInput);
  const Eigen::VectorXf* same[] = {&a, &a};
  const double not_one[] = {0.5, 0.6};
  EXPECT_EQ(WeightedAverage(same, not_one, &out).code(), StatusCode::kInvalidInput);
  const double negative[] = {1.5, -0.5};
  EXPECT_EQ(WeightedAverage(same, negative, &out).code(), StatusCode::kInvalidInput);
  const double nan[] = {std::numeric_limits<double>::quiet_NaN(), 0.5};
  EXPECT_EQ(WeightedAverage(same, nan, &out).code(), StatusCode::kInvalidInput);
  const double one[] = {1.0};
  EXPECT_EQ(WeightedAverage(same, one, &out).code(), StatusCode::kInvalidInput);
  EXPECT_EQ(WeightedAverage({}, {}, &out).code(), StatusCode::kInvalidInput);
  EXPECT_EQ(out.size(), 2) << "failed average must leave out untouched";
}

}  // namespace
}  // namespace grapevine::merge
