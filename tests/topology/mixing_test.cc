#include <gtest/gtest.h>

#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/mixing.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

Topology Dot(const std::string& text) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadDot(text, "t.dot", &issues);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

TEST(MixingTest, MetropolisOnRingIsOneThirdEach) {
  Topology ring = Generate(GraphKind::kRing, 6).value();
  MixingMatrix m = MixingWeights(ring, WeightsKind::kMetropolis).value();
  std::vector<std::pair<int, double>> row = m.Row(0);
  ASSERT_EQ(row.size(), 3u);
  EXPECT_EQ(row[0].first, 0);
  EXPECT_EQ(row[1].first, 1);
  EXPECT_EQ(row[2].first, 5);
  for (const auto& [j, w] : row) EXPECT_DOUBLE_EQ(w, 1.0 / 3.0);
  EXPECT_TRUE(m.properties.doubly_stochastic);
  EXPECT_TRUE(m.properties.symmetric);
}

TEST(MixingTest, MetropolisUsesTheLargerDegree) {
  Topology star = Generate(GraphKind::kStar, 5).value();
  MixingMatrix m = MixingWeights(star, WeightsKind::kMetropolis).value();
  EXPECT_DOUBLE_EQ(m.w.coeff(1, 0), 1.0 / 5.0);  // max(1, 4) + 1
  EXPECT_DOUBLE_EQ(m.w.coeff(1, 1), 4.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(0, 0), 1.0 / 5.0);
  EXPECT_TRUE(m.properties.doubly_stochastic);
}

TEST(MixingTest, UniformIsRowStochasticOnlyOnIrregularGraphs) {
  Topology star = Generate(GraphKind::kStar, 5).value();
  MixingMatrix m = MixingWeights(star, WeightsKind::kUniform).value();
  EXPECT_DOUBLE_EQ(m.w.coeff(0, 3), 1.0 / 5.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(3, 0), 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(3, 3), 1.0 / 2.0);
  EXPECT_TRUE(m.properties.row_stochastic);
  EXPECT_FALSE(m.properties.column_stochastic);
  EXPECT_FALSE(m.properties.symmetric);
  EXPECT_FALSE(m.properties.doubly_stochastic);
  // On a regular graph uniform is doubly stochastic.
  Topology ring = Generate(GraphKind::kRing, 5).value();
  EXPECT_TRUE(MixingWeights(ring, WeightsKind::kUniform).value().properties.doubly_stochastic);
}

TEST(MixingTest, UniformOnDigraphUsesInNeighbours) {
  Topology t = Dot("digraph { a -> b; c -> b; b -> a }");
  MixingMatrix m = MixingWeights(t, WeightsKind::kUniform).value();
  int a = 0, b = 1, c = 2;
  EXPECT_DOUBLE_EQ(m.w.coeff(b, a), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(b, c), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(a, b), 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(c, c), 1.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(a, c), 0.0);
}

TEST(MixingTest, MetropolisOnDigraphIsAnErrorWithHint) {
  Topology t = Dot("digraph { a -> b -> a }");
  std::vector<Issue> issues;
  Result<MixingMatrix> m = MixingWeights(t, WeightsKind::kMetropolis, &issues);
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("--weights uniform"), std::string::npos);
  EXPECT_TRUE(HasIssue(issues, "undirected"));
}

TEST(MixingTest, FileWeightsFillTheDiagonal) {
  Topology t = Dot("graph { a -- b [weight=0.25]; b -- c [weight=0.5]; c -- a [weight=0.125] }");
  MixingMatrix m = MixingWeights(t, WeightsKind::kFile).value();
  EXPECT_DOUBLE_EQ(m.w.coeff(0, 1), 0.25);
  EXPECT_DOUBLE_EQ(m.w.coeff(1, 0), 0.25);
  EXPECT_DOUBLE_EQ(m.w.coeff(0, 0), 1 - 0.25 - 0.125);
  EXPECT_DOUBLE_EQ(m.w.coeff(1, 1), 1 - 0.25 - 0.5);
  EXPECT_TRUE(m.properties.doubly_stochastic);
  EXPECT_TRUE(m.properties.symmetric);
}

TEST(MixingTest, FileWeightsOnDigraphAreRowsOfTheReceiver) {
  Topology t = Dot("digraph { a -> b [weight=0.4]; b -> a [weight=0.1] }");
  MixingMatrix m = MixingWeights(t, WeightsKind::kFile).value();
  EXPECT_DOUBLE_EQ(m.w.coeff(1, 0), 0.4);  // b averages in a's model
  EXPECT_DOUBLE_EQ(m.w.coeff(0, 1), 0.1);
  EXPECT_TRUE(m.properties.row_stochastic);
  EXPECT_FALSE(m.properties.column_stochastic);
}

TEST(MixingTest, FileWeightsMustBePresentAndLeaveRoom) {
  Topology t = Dot("graph {\n a [addr=\"h:1\"]\n b [addr=\"h:2\"]\n c [addr=\"h:3\"]\n"
                   " a -- b [weight=0.75]\n a -- c [weight=0.5]\n b -- c\n}");
  std::vector<Issue> issues;
  Result<MixingMatrix> m = MixingWeights(t, WeightsKind::kFile, &issues);
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(HasIssue(issues, "weights into node a sum to 1.25 > 1", 2)) << m.status().message();
  EXPECT_TRUE(HasIssue(issues, "edge b - c has no weight", 7)) << m.status().message();
  EXPECT_NE(m.status().message().find("t.dot:2:"), std::string::npos);
}

TEST(MixingTest, ParseWeightsKind) {
  EXPECT_EQ(ParseWeightsKind("uniform").value(), WeightsKind::kUniform);
  EXPECT_FALSE(ParseWeightsKind("max-degree").ok());
  EXPECT_EQ(ParseWeightsKind("push-sum").value(), WeightsKind::kPushSum);
  EXPECT_STREQ(WeightsKindName(WeightsKind::kPushSum), "push-sum");
  EXPECT_EQ(DefaultWeightsKind(Dot("digraph { a -> b }")), WeightsKind::kPushSum);
  EXPECT_EQ(DefaultWeightsKind(Dot("graph { a -- b }")), WeightsKind::kMetropolis);
}

TEST(MixingTest, MetropolisWeightIsOneOverOnePlusTheLargerDegree) {
  EXPECT_DOUBLE_EQ(MetropolisWeight(2, 5), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(MetropolisWeight(5, 2), 1.0 / 6.0);
  EXPECT_DOUBLE_EQ(MetropolisWeight(0, 0), 1.0);
}

TEST(MixingTest, PushSumSplitsEachColumnByOutDegree) {
  // a sends to b and c (out-degree 2), b to c, c to a.
  Topology t = Dot("digraph { a -> b; a -> c; b -> c; c -> a }");
  MixingMatrix m = MixingWeights(t, WeightsKind::kPushSum).value();
  const int a = *t.FindNode("a"), b = *t.FindNode("b"), c = *t.FindNode("c");
  EXPECT_DOUBLE_EQ(m.w.coeff(a, a), 1.0 / 3.0);  // row = receiver, column = sender
  EXPECT_DOUBLE_EQ(m.w.coeff(b, a), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(c, a), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(b, b), 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(c, b), 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(a, c), 1.0 / 2.0);
  EXPECT_DOUBLE_EQ(m.w.coeff(a, b), 0.0);
  EXPECT_TRUE(m.properties.column_stochastic);
  EXPECT_FALSE(m.properties.row_stochastic);
  EXPECT_FALSE(m.properties.doubly_stochastic);
}

TEST(MixingTest, PushSumOnAnUndirectedGraphUsesTheDegree) {
  Topology star = Generate(GraphKind::kStar, 4).value();
  MixingMatrix m = MixingWeights(star, WeightsKind::kPushSum).value();
  EXPECT_DOUBLE_EQ(m.w.coeff(1, 0), 1.0 / 4.0);  // the hub gives 1/4 to each leaf
  EXPECT_DOUBLE_EQ(m.w.coeff(0, 1), 1.0 / 2.0);  // a leaf gives 1/2 to the hub
  EXPECT_TRUE(m.properties.column_stochastic);
}

}  // namespace
}  // namespace grapevine::topology
