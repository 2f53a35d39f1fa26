#include "merge/cga.h"

#include <gtest/gtest.h>

#include <Eigen/QR>
#include <cmath>
#include <limits>
#include <random>

#include "learn/param_layout.h"

namespace grapevine::merge {
namespace {

struct Problem {
  Eigen::MatrixXd gram;
  Eigen::VectorXd linear;
};

// M has t rows of dimension d; g is the self gradient. With d ≥ t the Gram matrix is
// well conditioned, so independent methods can be compared tightly.
Problem RandomProblem(int t, int d, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> n01;
  Eigen::MatrixXd m(t, d);
  Eigen::VectorXd g(d);
  for (int i = 0; i < t; ++i)
    for (int j = 0; j < d; ++j) m(i, j) = n01(rng);
  for (int j = 0; j < d; ++j) g(j) = n01(rng);
  // Mix the sign of the alignment so both active and inactive bounds appear.
  for (int i = 0; i < t; ++i) m.row(i) += (i % 2 ? 1.5 : -1.5) * g.transpose() / std::sqrt(d);
  return {m * m.transpose(), m * g};
}

double Objective(const Problem& p, const Eigen::VectorXd& v, double eps = 1e-12) {
  return 0.5 * v.dot(p.gram * v) + eps * 0.5 * v.squaredNorm() + p.linear.dot(v);
}

// Independent reference: for every face, the unconstrained minimiser on that face
// (QR solve), kept when feasible; the lowest objective wins. Does not use KKT.
Eigen::VectorXd BruteForce(const Problem& p, double lower = 0.5) {
  const int t = static_cast<int>(p.linear.size());
  double best = std::numeric_limits<double>::infinity();
  Eigen::VectorXd best_v;
  for (int mask = 0; mask < (1 << t); ++mask) {
    std::vector<int> free_idx, fixed_idx;
    for (int k = 0; k < t; ++k) (mask & (1 << k) ? free_idx : fixed_idx).push_back(k);
    Eigen::VectorXd v = Eigen::VectorXd::Constant(t, lower);
    if (!free_idx.empty()) {
      const int f = static_cast<int>(free_idx.size());
      Eigen::MatrixXd a(f, f);
      Eigen::VectorXd rhs(f);
      for (int r = 0; r < f; ++r) {
        rhs(r) = -p.linear(free_idx[r]);
        for (int c : fixed_idx) rhs(r) -= p.gram(free_idx[r], c) * lower;
        for (int c = 0; c < f; ++c) a(r, c) = p.gram(free_idx[r], free_idx[c]);
      }
      const Eigen::VectorXd s = a.colPivHouseholderQr().solve(rhs);
      for (int r = 0; r < f; ++r) v(free_idx[r]) = s(r);
    }
    if ((v.array() < lower - 1e-12).any()) continue;
    const double obj = Objective(p, v);
    if (obj < best) {
      best = obj;
      best_v = v;
    }
  }
  return best_v;
}

TEST(CgaQpTest, MatchesBruteForceAndKkt) {
  for (int t = 1; t <= 4; ++t) {
    for (int seed = 0; seed < 50; ++seed) {
      const Problem p = RandomProblem(t, 12, 100 * t + seed);
      Result<CgaQpSolution> sol = SolveCgaQp(p.gram, p.linear);
      ASSERT_TRUE(sol.ok()) << sol.status().ToString();
      EXPECT_EQ(sol->method, CgaMethod::kExact);
      EXPECT_TRUE((sol->v.array() >= 0.5 - 1e-12).all());
      EXPECT_TRUE(SatisfiesCgaKkt(p.gram, p.linear, sol->v));
      const Eigen::VectorXd ref = BruteForce(p);
      EXPECT_LT((sol->v - ref).cwiseAbs().maxCoeff(), 1e-8) << "t=" << t << " seed=" << seed;
    }
  }
}

TEST(CgaQpTest, MatchesFineGridForTwoRows) {
  for (int seed = 0; seed < 10; ++seed) {
    const Problem p = RandomProblem(2, 6, 900 + seed);
    Result<CgaQpSolution> sol = SolveCgaQp(p.gram, p.linear);
    ASSERT_TRUE(sol.ok());
    double grid_best = std::numeric_limits<double>::infinity();
    for (int i = 0; i <= 600; ++i) {
      for (int j = 0; j <= 600; ++j) {
        Eigen::Vector2d v(0.5 + 0.01 * i, 0.5 + 0.01 * j);
        grid_best = std::min(grid_best, Objective(p, v));
      }
    }
    // The exact optimum is never worse than any grid point.
    EXPECT_LE(Objective(p, sol->v), grid_best + 1e-12);
    EXPECT_GE(Objective(p, sol->v), grid_best - 1e-2 * (1 + std::abs(grid_best)));
  }
}

TEST(CgaQpTest, GaussSeidelAgreesWithExact) {
  CgaOptions pgs;
  pgs.max_exact_rows = 0;
  for (int t = 1; t <= 6; ++t) {
    for (int seed = 0; seed < 10; ++seed) {
      const Problem p = RandomProblem(t, 16, 7000 + 10 * t + seed);
      Result<CgaQpSolution> exact = SolveCgaQp(p.gram, p.linear);
      Result<CgaQpSolution> iter = SolveCgaQp(p.gram, p.linear, pgs);
      ASSERT_TRUE(exact.ok() && iter.ok());
      EXPECT_EQ(iter->method, CgaMethod::kGaussSeidel);
      EXPECT_LT((exact->v - iter->v).cwiseAbs().maxCoeff(), 1e-5);
      EXPECT_TRUE((iter->v.array() >= 0.5).all());
    }
  }
}

TEST(CgaQpTest, CollinearRowsStillSolve) {
  // Two neighbours with the same cross-gradient: MMᵀ is singular, ε keeps it PD.
  Eigen::MatrixXd m(2, 3);
  m << 1, 2, 3, 1, 2, 3;
  Eigen::Vector3d g(-1, -2, -3);
  Result<CgaQpSolution> sol = SolveCgaQp(m * m.transpose(), m * g);
  ASSERT_TRUE(sol.ok()) << sol.status().ToString();
  EXPECT_TRUE((sol->v.array() >= 0.5 - 1e-12).all());
  // Any optimum puts v0 + v1 = 1 (Mᵀv cancels g exactly).
  EXPECT_NEAR(sol->v.sum(), 1.0, 1e-6);
}

TEST(CgaQpTest, RejectsNonFinite) {
  Eigen::MatrixXd gram = Eigen::MatrixXd::Identity(2, 2);
  Eigen::VectorXd lin(2);
  lin << std::numeric_limits<double>::quiet_NaN(), 0;
  EXPECT_EQ(SolveCgaQp(gram, lin).status().code(), StatusCode::kInvalidInput);
}

TEST(CgaAggregatorTest, PerTensorProjectionAndDroppedRows) {
  learn::ParamLayout layout;
  layout.Add("w", 3, 2);
  layout.Add("b", 3, 1);
  CgaAggregator agg(TensorRangesOf(layout));
  std::mt19937_64 rng(1);
  std::normal_distribution<float> n01;
  Eigen::VectorXf g(9), c1(9), c2(9);
  for (int i = 0; i < 9; ++i) {
    g(i) = n01(rng);
    c1(i) = n01(rng);
    c2(i) = n01(rng);
  }
  c2.segment(6, 3).setZero();  // neighbour 2 contributes nothing to the bias
  const Eigen::VectorXf* cross[] = {&c1, &c2};
  const double w[] = {0.25, 0.25};
  const uint64_t ids[] = {10, 20};
  Eigen::VectorXf out;
  Result<CgaStepStats> stats = agg.Aggregate(g, 0.5, cross, w, ids, &out);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->tensors, 2);
  EXPECT_EQ(stats->dropped_rows, 1);
  EXPECT_EQ(stats->exact, 2);
  // Recompute each tensor independently.
  for (const TensorRange& r : TensorRangesOf(layout)) {
    const Eigen::VectorXd gs = 0.5 * g.segment(r.offset, r.size).cast<double>();
    std::vector<Eigen::VectorXd> rows;
    for (const Eigen::VectorXf* c : {&c1, &c2}) {
      Eigen::VectorXd row = 0.25 * c->segment(r.offset, r.size).cast<double>();
      if (!row.isZero(0.0)) rows.push_back(row);
    }
    Eigen::MatrixXd m(static_cast<Eigen::Index>(rows.size()), r.size);
    for (size_t k = 0; k < rows.size(); ++k) m.row(static_cast<Eigen::Index>(k)) = rows[k];
    const Eigen::VectorXd v = BruteForce({m * m.transpose(), m * gs});
    const Eigen::VectorXd expected = gs + m.transpose() * v;
    EXPECT_LT((out.segment(r.offset, r.size).cast<double>() - expected).cwiseAbs().maxCoeff(),
              1e-5);
  }
}

TEST(CgaAggregatorTest, NoNeighboursGivesWeightedSelfGradient) {
  CgaAggregator agg({{0, 4}});
  Eigen::VectorXf g = Eigen::VectorXf::LinSpaced(4, 1, 4);
  Eigen::VectorXf out;
  ASSERT_TRUE(agg.Aggregate(g, 1.0, {}, {}, {}, &out).ok());
  EXPECT_TRUE(out.isApprox(g));
}

TEST(CgaAggregatorTest, RejectsBadInputWithoutTouchingOutput) {
  CgaAggregator agg({{0, 4}});
  Eigen::VectorXf g = Eigen::VectorXf::Ones(4), short_c = Eigen::VectorXf::Ones(3);
  Eigen::VectorXf nan_c = Eigen::VectorXf::Ones(4);
  nan_c(2) = std::numeric_limits<float>::quiet_NaN();
  Eigen::VectorXf out = Eigen::VectorXf::Zero(1);
  const double w[] = {0.5};
  const uint64_t ids[] = {1};
  const Eigen::VectorXf* bad_size[] = {&short_c};
  EXPECT_EQ(agg.Aggregate(g, 0.5, bad_size, w, ids, &out).status().code(),
            StatusCode::kInvalidInput);
  const Eigen::VectorXf* bad_value[] = {&nan_c};
  EXPECT_EQ(agg.Aggregate(g, 0.5, bad_value, w, ids, &out).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(out.size(), 1);
}

}  // namespace
}  // namespace grapevine::merge
