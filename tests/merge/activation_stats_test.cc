#include "merge/activation_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace grapevine::merge {
namespace {

// Reference Pearson correlation in double over the whole sample set.
Eigen::MatrixXd DirectCorrelation(const Eigen::MatrixXd& a, const Eigen::MatrixXd& b) {
  const Eigen::MatrixXd ca = a.colwise() - a.rowwise().mean();
  const Eigen::MatrixXd cb = b.colwise() - b.rowwise().mean();
  Eigen::MatrixXd c = ca * cb.transpose();
  for (Eigen::Index i = 0; i < c.rows(); ++i)
    for (Eigen::Index j = 0; j < c.cols(); ++j)
      c(i, j) /= std::max(ca.row(i).norm() * cb.row(j).norm(), 1e-300);
  return c;
}

TEST(CorrelationAccumulatorTest, MatchesDirectComputationAcrossBatches) {
  std::mt19937_64 rng(42);
  std::normal_distribution<float> n01;
  const int ua = 7, ub = 5, samples = 3000;
  Eigen::MatrixXf a(ua, samples), b(ub, samples);
  for (int s = 0; s < samples; ++s) {
    const float common = n01(rng);
    // Large offsets (like post-ReLU means) to exercise the shift against cancellation.
    for (int i = 0; i < ua; ++i) a(i, s) = 100.0f + 0.1f * (i * common + n01(rng));
    for (int j = 0; j < ub; ++j) b(j, s) = -50.0f + 0.1f * ((j - 2) * common + n01(rng));
  }
  CorrelationAccumulator acc(ua, ub);
  for (int start = 0; start < samples; start += 700) {
    const int width = std::min(700, samples - start);
    acc.Add(a.middleCols(start, width), b.middleCols(start, width));
  }
  EXPECT_EQ(acc.count(), samples);
  const Eigen::MatrixXd expected =
      DirectCorrelation(a.cast<double>(), b.cast<double>());
  EXPECT_LT((acc.Correlation() - expected).cwiseAbs().maxCoeff(), 1e-4);
}

TEST(CorrelationAccumulatorTest, WideBatchIsChunked) {
  std::mt19937_64 rng(3);
  std::normal_distribution<float> n01;
  const int samples = 2 * static_cast<int>(CorrelationAccumulator::kMaxGemmColumns) + 17;
  Eigen::MatrixXf a(3, samples), b(3, samples);
  for (int s = 0; s < samples; ++s)
    for (int i = 0; i < 3; ++i) {
      a(i, s) = n01(rng);
      b(i, s) = a(i, s) * (i + 1) + 0.5f * n01(rng);
    }
  CorrelationAccumulator acc(3, 3);
  acc.Add(a, b);
  EXPECT_LT((acc.Correlation() - DirectCorrelation(a.cast<double>(), b.cast<double>()))
                .cwiseAbs()
                .maxCoeff(),
            1e-5);
}

TEST(CorrelationAccumulatorTest, IdenticalUnitsCorrelateToOneDeadUnitsToZero) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<float> u01;
  Eigen::MatrixXf a(4, 200);
  for (int s = 0; s < 200; ++s)
    for (int i = 0; i < 4; ++i) a(i, s) = std::max(0.0f, u01(rng) - 0.3f);
  a.row(2).setZero();  // a dead ReLU unit
  CorrelationAccumulator acc(4, 4);
  acc.Add(a, a);
  const Eigen::MatrixXd c = acc.Correlation();
  for (int i = 0; i < 4; ++i) {
    if (i != 2) {
      EXPECT_NEAR(c(i, i), 1.0, 1e-5);
    }
    EXPECT_EQ(c(2, i), 0.0);
    EXPECT_EQ(c(i, 2), 0.0);
  }
  EXPECT_TRUE(c.allFinite());
}

TEST(CorrelationAccumulatorTest, TooFewSamplesGiveZeros) {
  CorrelationAccumulator acc(2, 3);
  EXPECT_TRUE(acc.Correlation().isZero());
  acc.Add(Eigen::MatrixXf::Ones(2, 1), Eigen::MatrixXf::Ones(3, 1));
  EXPECT_TRUE(acc.Correlation().isZero());
}

}  // namespace
}  // namespace grapevine::merge
