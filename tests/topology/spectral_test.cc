#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/graph_metrics.h"
#include "topology/spectral.h"

namespace grapevine::topology {
namespace {

constexpr double kPi = std::numbers::pi;

SpectralInfo Spectrum(const Topology& t, WeightsKind kind, int dense_limit = 1500) {
  MixingMatrix m = MixingWeights(t, kind).value();
  SpectralOptions options;
  options.dense_limit = dense_limit;
  return AnalyzeSpectrum(m, IsConnected(t), options);
}

// Metropolis on a ring: W = (I + A)/3, eigenvalues 1/3 + 2/3·cos(2πk/n).
double RingRho(int n) {
  double rho = 0;
  for (int k = 1; k < n; ++k) rho = std::max(rho, std::abs(1.0 / 3 + 2.0 / 3 * std::cos(2 * kPi * k / n)));
  return rho;
}

TEST(SpectralTest, RingMatchesClosedForm) {
  for (int n : {4, 5, 8, 13, 50}) {
    SpectralInfo s = Spectrum(Generate(GraphKind::kRing, n).value(), WeightsKind::kMetropolis);
    ASSERT_TRUE(s.rho.has_value());
    EXPECT_NEAR(*s.rho, RingRho(n), 1e-12) << n;
    EXPECT_NEAR(*s.lambda2, 1.0 / 3 + 2.0 / 3 * std::cos(2 * kPi / n), 1e-12);
    double lambda_n = 1.0 / 3 + 2.0 / 3 * std::cos(2 * kPi * (n / 2) / n);
    EXPECT_NEAR(*s.lambda_n, lambda_n, 1e-12);
    EXPECT_NEAR(*s.spectral_gap, 1 - RingRho(n), 1e-12);
    EXPECT_EQ(s.consensus_rounds, ConsensusRounds(RingRho(n), 1e-3));
    EXPECT_EQ(s.method, "dense-symmetric");
  }
}

TEST(SpectralTest, CompleteGraphMixesInOneRound) {
  SpectralInfo s = Spectrum(Generate(GraphKind::kComplete, 8).value(), WeightsKind::kMetropolis);
  EXPECT_EQ(s.rho, 0.0);
  EXPECT_EQ(s.spectral_gap, 1.0);
  EXPECT_EQ(s.consensus_rounds, 1);
}

TEST(SpectralTest, StarMetropolisIsOneMinusOneOverN) {
  // Leaves keep 1 - 1/n of their own model: differences between leaves decay at that rate.
  for (int n : {3, 6, 10}) {
    SpectralInfo s = Spectrum(Generate(GraphKind::kStar, n).value(), WeightsKind::kMetropolis);
    EXPECT_NEAR(*s.rho, 1.0 - 1.0 / n, 1e-12) << n;
  }
}

TEST(SpectralTest, HypercubeIsDMinusOneOverDPlusOne) {
  for (int d : {2, 3, 4, 6}) {
    SpectralInfo s = Spectrum(Generate(GraphKind::kHypercube, 1 << d).value(), WeightsKind::kMetropolis);
    EXPECT_NEAR(*s.rho, (d - 1.0) / (d + 1.0), 1e-12) << d;
  }
}

TEST(SpectralTest, DirectedRingUniformHasModulusCosPiOverN) {
  // W = (I + P)/2 with P the cyclic shift: eigenvalues (1 + e^{2πik/n})/2, moduli |cos(πk/n)|.
  Topology t(/*directed=*/true);
  const int n = 9;
  for (int i = 0; i < n; ++i) t.FindOrAddNode(std::to_string(i));
  for (int i = 0; i < n; ++i) t.AddEdge(i, (i + 1) % n);
  SpectralInfo s = Spectrum(t, WeightsKind::kUniform);
  EXPECT_EQ(s.method, "dense-general");
  EXPECT_NEAR(*s.rho, std::cos(kPi / n), 1e-10);
  EXPECT_TRUE(s.consensus_rounds.has_value());
}

TEST(SpectralTest, DisconnectedHasRhoOneAndNoRounds) {
  std::vector<Issue> issues;
  Topology t = ReadDot("graph { a -- b; c -- d }", "t.dot", &issues).value();
  SpectralInfo s = Spectrum(t, WeightsKind::kMetropolis);
  EXPECT_EQ(s.rho, 1.0);
  EXPECT_EQ(s.spectral_gap, 0.0);
  EXPECT_FALSE(s.consensus_rounds.has_value());
}

TEST(SpectralTest, SingleNodeNeedsNoRounds) {
  Topology t;
  t.FindOrAddNode("solo");
  SpectralInfo s = Spectrum(t, WeightsKind::kMetropolis);
  EXPECT_EQ(s.rho, 0.0);
  EXPECT_EQ(s.consensus_rounds, 0);
}

TEST(SpectralTest, SparseSolversAgreeWithDense) {
  // Force the sparse paths on small graphs: a ring (shift-invert fallback) and an
  // expander (plain Lanczos), each against the dense answer.
  GeneratorOptions options;
  options.seed = 5;
  options.degree = 4;
  for (const Topology& t : {Generate(GraphKind::kRing, 400).value(),
                            Generate(GraphKind::kRandomRegular, 400, options).value(),
                            Generate(GraphKind::kTorus, 400).value()}) {
    for (WeightsKind kind : {WeightsKind::kMetropolis, WeightsKind::kUniform}) {
      SpectralInfo dense = Spectrum(t, kind);
      SpectralInfo sparse = Spectrum(t, kind, /*dense_limit=*/100);
      ASSERT_TRUE(sparse.rho.has_value()) << sparse.note;
      EXPECT_NE(sparse.method, dense.method);
      EXPECT_NEAR(*sparse.rho, *dense.rho, 1e-9) << sparse.method;
      EXPECT_EQ(sparse.consensus_rounds, dense.consensus_rounds) << sparse.method;
    }
  }
}

TEST(SpectralTest, ConsensusRoundsFormula) {
  EXPECT_EQ(ConsensusRounds(0.5, 1e-3), 10);  // ln(1000)/ln(2) = 9.97
  EXPECT_EQ(ConsensusRounds(0.0, 1e-3), 1);
  EXPECT_FALSE(ConsensusRounds(1.0, 1e-3).has_value());
  EXPECT_EQ(ConsensusRounds(0.9, 1e-2), 44);  // ln(100)/-ln(0.9) = 43.7
}


TEST(SpectralTest, ArnoldiAgreesWithDenseOnADigraph) {
  // Directed exponential graph (i -> i + 2^k): mixes fast, so Arnoldi converges.
  Topology t(/*directed=*/true);
  const int n = 300;
  for (int i = 0; i < n; ++i) t.FindOrAddNode(std::to_string(i));
  for (int i = 0; i < n; ++i) {
    for (int hop = 1; hop < n; hop <<= 1) t.AddEdge(i, (i + hop) % n);
  }
  SpectralInfo dense = Spectrum(t, WeightsKind::kUniform);
  SpectralInfo sparse = Spectrum(t, WeightsKind::kUniform, /*dense_limit=*/100);
  EXPECT_EQ(sparse.method, "arnoldi");
  ASSERT_TRUE(sparse.rho.has_value()) << sparse.note;
  EXPECT_NEAR(*sparse.rho, *dense.rho, 1e-8);
}

TEST(SpectralTest, DirectedRingPushSumHasModulusCosPiOverN) {
  // Out-degree 1 everywhere: push-sum's W is (I + P)/2 as well.
  GeneratorOptions options;
  options.directed = true;
  SpectralInfo s = Spectrum(Generate(GraphKind::kRing, 8, options).value(), WeightsKind::kPushSum);
  EXPECT_NEAR(*s.rho, std::cos(kPi / 8), 1e-10);
  EXPECT_EQ(s.consensus_rounds, 88);  // ceil(ln 1000 / -ln cos(π/8))
}

TEST(SpectralTest, PushSumOnRandomDigraphMixesAndFailsWhenNotStronglyConnected) {
  GeneratorOptions options;
  options.directed = true;
  options.p = 0.3;
  options.seed = 4;
  SpectralInfo s =
      Spectrum(Generate(GraphKind::kErdosRenyi, 30, options).value(), WeightsKind::kPushSum);
  ASSERT_TRUE(s.rho.has_value());
  EXPECT_GT(*s.rho, 0.0);
  EXPECT_LT(*s.rho, 0.9);
  EXPECT_TRUE(s.consensus_rounds.has_value());
  std::vector<Issue> issues;
  Topology chain = ReadDot("digraph { a -> b -> c -> b }", "t.dot", &issues).value();
  SpectralInfo stuck = Spectrum(chain, WeightsKind::kPushSum);
  EXPECT_FALSE(stuck.consensus_rounds.has_value());
}

}  // namespace
}  // namespace grapevine::topology
