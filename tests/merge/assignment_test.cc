#include "merge/assignment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

namespace grapevine::merge {
namespace {

Eigen::MatrixXd RandomMatrix(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  Eigen::MatrixXd m(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) m(i, j) = dist(rng);
  return m;
}

// Best value over all n! permutations.
double BruteForceBest(const Eigen::MatrixXd& w) {
  std::vector<int> perm(static_cast<size_t>(w.rows()));
  std::iota(perm.begin(), perm.end(), 0);
  double best = -std::numeric_limits<double>::infinity();
  do {
    double total = 0;
    for (size_t i = 0; i < perm.size(); ++i) total += w(static_cast<Eigen::Index>(i), perm[i]);
    best = std::max(best, total);
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}

TEST(AssignmentTest, MatchesBruteForceOnRandomMatrices) {
  for (int n = 1; n <= 8; ++n) {
    const int seeds = n <= 6 ? 40 : 8;
    for (int seed = 0; seed < seeds; ++seed) {
      const Eigen::MatrixXd w = RandomMatrix(n, 1000 * n + seed);
      const std::vector<int> perm = SolveMaxAssignment(w);
      ASSERT_TRUE(IsPermutation(perm, n));
      EXPECT_NEAR(AssignmentValue(w, perm), BruteForceBest(w), 1e-9) << "n=" << n
                                                                      << " seed=" << seed;
    }
  }
}

TEST(AssignmentTest, IntegerMatricesWithManyTiesStillOptimal) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int> dist(0, 2);
  for (int trial = 0; trial < 50; ++trial) {
    const int n = 2 + trial % 6;
    Eigen::MatrixXd w(n, n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) w(i, j) = dist(rng);
    EXPECT_DOUBLE_EQ(AssignmentValue(w, SolveMaxAssignment(w)), BruteForceBest(w));
  }
}

TEST(AssignmentTest, RecoversHiddenPermutation) {
  const int n = 64;
  std::vector<int> hidden(n);
  std::iota(hidden.begin(), hidden.end(), 0);
  std::shuffle(hidden.begin(), hidden.end(), std::mt19937_64(3));
  Eigen::MatrixXd w = 0.5 * RandomMatrix(n, 11);
  for (int i = 0; i < n; ++i) w(i, hidden[i]) = 1.0;
  EXPECT_EQ(SolveMaxAssignment(w), hidden);
}

TEST(AssignmentTest, ConstantMatrixGivesIdentity) {
  const std::vector<int> perm = SolveMaxAssignment(Eigen::MatrixXd::Constant(5, 5, 0.25));
  EXPECT_EQ(perm, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(AssignmentTest, TiesAreDeterministicAndFollowTheRule) {
  // Two optimal assignments (value 2): identity and the swap. Rows are inserted
  // in order and the first column with the smallest distance wins, so row 0 keeps
  // column 0.
  Eigen::MatrixXd w(2, 2);
  w << 1, 1, 1, 1;
  EXPECT_EQ(SolveMaxAssignment(w), (std::vector<int>{0, 1}));
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> dist(0, 1);
  Eigen::MatrixXd tied(12, 12);
  for (int i = 0; i < 12; ++i)
    for (int j = 0; j < 12; ++j) tied(i, j) = dist(rng);
  const std::vector<int> first = SolveMaxAssignment(tied);
  for (int repeat = 0; repeat < 5; ++repeat) EXPECT_EQ(SolveMaxAssignment(tied), first);
  EXPECT_EQ(SolveMaxAssignment(Eigen::MatrixXf(tied.cast<float>())), first);
}

TEST(AssignmentTest, ZeroRowsAndColumns) {
  Eigen::MatrixXd w = RandomMatrix(6, 21);
  w.row(2).setZero();
  w.col(4).setZero();
  const std::vector<int> perm = SolveMaxAssignment(w);
  ASSERT_TRUE(IsPermutation(perm, 6));
  EXPECT_NEAR(AssignmentValue(w, perm), BruteForceBest(w), 1e-12);
  EXPECT_EQ(SolveMaxAssignment(Eigen::MatrixXd::Zero(4, 4)), (std::vector<int>{0, 1, 2, 3}));
}

TEST(AssignmentTest, NanIsWorseThanAnyFiniteEntry) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Eigen::MatrixXd w(3, 3);
  w << nan, 0.1, -5.0,
       0.2, nan, 0.3,
       -4.0, 0.4, nan;
  const std::vector<int> perm = SolveMaxAssignment(w);
  ASSERT_TRUE(IsPermutation(perm, 3));
  for (int i = 0; i < 3; ++i) EXPECT_NE(perm[i], i) << "picked a NaN entry in row " << i;
  const Eigen::MatrixXd clean = SanitizeWeights(w);
  EXPECT_TRUE(clean.allFinite());
  EXPECT_NEAR(AssignmentValue(w, perm), BruteForceBest(clean), 1e-12);
  // A whole NaN row still gets a column; the rest stay optimal.
  Eigen::MatrixXd v = RandomMatrix(5, 4);
  v.row(1).setConstant(nan);
  const std::vector<int> p2 = SolveMaxAssignment(v);
  ASSERT_TRUE(IsPermutation(p2, 5));
  EXPECT_NEAR(AssignmentValue(v, p2), BruteForceBest(SanitizeWeights(v)), 1e-12);
  // All-NaN: treated as all zeros, identity by the tie rule.
  EXPECT_EQ(SolveMaxAssignment(Eigen::MatrixXd::Constant(3, 3, nan)), (std::vector<int>{0, 1, 2}));
}

TEST(AssignmentTest, InfinitiesAreClamped) {
  const double inf = std::numeric_limits<double>::infinity();
  Eigen::MatrixXd w(3, 3);
  w << 0, inf, 0,
       0, 0, -inf,
       1, 0, 0;
  const std::vector<int> perm = SolveMaxAssignment(w);
  EXPECT_EQ(perm[0], 1);
  EXPECT_NE(perm[1], 2);
}

TEST(AssignmentTest, EmptyAndSingle) {
  EXPECT_TRUE(SolveMaxAssignment(Eigen::MatrixXd(0, 0)).empty());
  EXPECT_EQ(SolveMaxAssignment(Eigen::MatrixXd::Constant(1, 1, -3.0)), std::vector<int>{0});
}

}  // namespace
}  // namespace grapevine::merge
