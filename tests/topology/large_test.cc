// 10,000-node graphs through the sparse eigensolvers (Spectra): the answers must match
// closed forms / each other. Wall time is reported by bench/topology, never asserted.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "topology/analyze.h"
#include "topology/generators.h"

namespace grapevine::topology {
namespace {

TEST(LargeTopologyTest, Ring10kMatchesClosedForm) {
  const int n = 10000;
  Report report = Analyze(Generate(GraphKind::kRing, n).value(), WeightsKind::kMetropolis).value();
  ASSERT_TRUE(report.spectral.rho.has_value()) << report.spectral.note;
  double rho = 1.0 / 3 + 2.0 / 3 * std::cos(2 * std::numbers::pi / n);
  EXPECT_NEAR(*report.spectral.rho, rho, 1e-10) << report.spectral.method;
  // 1 − ρ is ~1.3e-7 here: check the gap to 0.1%, which also pins consensus_rounds.
  EXPECT_NEAR(*report.spectral.spectral_gap / (1 - rho), 1.0, 1e-3);
  EXPECT_EQ(report.diameter, n / 2);
}

TEST(LargeTopologyTest, RandomRegular10kIsAnExpander) {
  GeneratorOptions options;
  options.degree = 4;
  options.seed = 3;
  Report report = Analyze(Generate(GraphKind::kRandomRegular, 10000, options).value(),
                          WeightsKind::kMetropolis)
                      .value();
  ASSERT_TRUE(report.spectral.rho.has_value()) << report.spectral.note;
  // W = (I + A)/5; a random 4-regular graph has λ₂(A) close to 2·sqrt(3) (Alon–Boppana,
  // Friedman), so ρ ≈ (1 + 2·sqrt(3))/5 ≈ 0.893; allow finite-size slack.
  EXPECT_GT(*report.spectral.rho, 0.85);
  EXPECT_LT(*report.spectral.rho, 0.95);
  EXPECT_TRUE(report.connected);
  EXPECT_LT(*report.diameter, 20);
}

}  // namespace
}  // namespace grapevine::topology
