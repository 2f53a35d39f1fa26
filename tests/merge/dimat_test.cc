#include "merge/dimat.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "merge/average.h"
#include "merge_test_util.h"

namespace grapevine::merge {
namespace {

using testing::GaussianProbe;
using testing::Inverse;
using testing::RandomlyPermuted;

void ExpectRecoversPermutedCopy(learn::Model& model, uint64_t seed) {
  const Eigen::VectorXf self = model.InitParams(seed);
  const testing::PermutedCopy copy = RandomlyPermuted(model, self, seed + 100);
  ASSERT_GT((copy.params - self).cwiseAbs().maxCoeff(), 1e-3f) << "permutation was a no-op";
  const Eigen::MatrixXf probe = GaussianProbe(model.input_shape().size(), 600, seed + 7);

  Result<Alignment> a = MatchByActivations(model, self, copy.params, probe, {.probe_batch = 128});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_EQ(a->perms.size(), copy.perms.size());
  for (size_t g = 0; g < copy.perms.size(); ++g) {
    EXPECT_EQ(a->perms[g], Inverse(copy.perms[g])) << "group " << g;
    // Each matched pair correlates 1 (live unit) or 0 (unit dead on the probe: the
    // small CNN has a few, placed by the weight tie-break), so the mean is k/units.
    const double live = a->scores[g] * static_cast<double>(copy.perms[g].size());
    EXPECT_NEAR(live, std::round(live), 1e-3) << "group " << g;
    EXPECT_GE(live, 0.5 * static_cast<double>(copy.perms[g].size())) << "group " << g;
  }

  const NeighbourModel nb[] = {{&copy.params, 0.5}};
  Result<MergeResult> merged = DimatMerge(model, self, 0.5, nb, probe);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_LT((merged->params - self).cwiseAbs().maxCoeff(), 1e-6f);
  ASSERT_EQ(merged->stats.match_scores.size(), 1u);

  // Plain averaging of the same pair is NOT the identity: the test above can fail.
  const Eigen::VectorXf* both[] = {&self, &copy.params};
  const double half[] = {0.5, 0.5};
  Eigen::VectorXf plain;
  ASSERT_TRUE(WeightedAverage(both, half, &plain).ok());
  EXPECT_GT((plain - self).cwiseAbs().maxCoeff(), 1e-3f);

  // The merge reports the alignment it used; its inverse takes self into the
  // neighbour's unit order (how an agent adopts a neighbour's frame).
  ASSERT_EQ(merged->alignments.size(), 1u);
  const Eigen::VectorXf in_their_order = PermuteToSelf(
      model.layout(), model.symmetry(), self, InvertAlignment(merged->alignments[0]));
  EXPECT_LT((in_their_order - copy.params).cwiseAbs().maxCoeff(), 1e-6f);
}

TEST(DimatTest, MlpPermutedCopyMergesBackExactly) {
  auto model = testing::SmallMlp();
  for (uint64_t seed : {1u, 2u, 3u}) ExpectRecoversPermutedCopy(*model, seed);
}

TEST(DimatTest, CnnPermutedCopyMergesBackExactly) {
  auto model = testing::SmallCnn();
  ASSERT_GE(model->symmetry().groups.size(), 3u);  // two conv groups + one dense group
  for (uint64_t seed : {4u, 5u}) ExpectRecoversPermutedCopy(*model, seed);
}

TEST(DimatTest, AlreadyAlignedNeighbourIsAveragedWithoutMatching) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(1);
  const testing::PermutedCopy copy = RandomlyPermuted(*model, self, 5);
  const Eigen::MatrixXf probe = GaussianProbe(20, 300, 2);
  // Declared aligned: the permuted copy is NOT matched back, so the result is the plain
  // average (which differs from self), and the reported alignment is the identity.
  const NeighbourModel nb[] = {{&copy.params, 0.5, /*aligned=*/true}};
  Result<MergeResult> merged = DimatMerge(*model, self, 0.5, nb, probe);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  const Eigen::VectorXf plain = 0.5f * self + 0.5f * copy.params;
  EXPECT_LT((merged->params - plain).cwiseAbs().maxCoeff(), 1e-6f);
  EXPECT_EQ(merged->alignments[0].MovedFraction(), 0.0);
  EXPECT_GT((merged->params - self).cwiseAbs().maxCoeff(), 1e-3f);
}

TEST(DimatTest, SeveralNeighboursAndZeroWeight) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(11);
  const auto c1 = RandomlyPermuted(*model, self, 12);
  const auto c2 = RandomlyPermuted(*model, self, 13);
  const Eigen::VectorXf unrelated = model->InitParams(99);
  const Eigen::MatrixXf probe = GaussianProbe(20, 400, 14);
  const NeighbourModel nb[] = {{&c1.params, 0.25}, {&c2.params, 0.25}, {&unrelated, 0.0}};
  Result<MergeResult> merged = DimatMerge(*model, self, 0.5, nb, probe);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_LT((merged->params - self).cwiseAbs().maxCoeff(), 1e-6f);
  EXPECT_EQ(merged->stats.match_scores.size(), 3u);
}

TEST(DimatTest, MergeOfDifferentModelsIsTheAverageOfTheAlignedOnes) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(21);
  const Eigen::VectorXf other = model->InitParams(22);
  const Eigen::MatrixXf probe = GaussianProbe(20, 500, 23);
  Result<Alignment> a = MatchByActivations(*model, self, other, probe);
  ASSERT_TRUE(a.ok());
  const NeighbourModel nb[] = {{&other, 0.3}};
  // Steps 3–7 alone (REPAIR, tested in repair_test.cc, would rescale the result).
  Result<MergeResult> merged =
      DimatMerge(*model, self, 0.7, nb, probe, {.repair = RepairMode::kOff});
  ASSERT_TRUE(merged.ok());
  const Eigen::VectorXf aligned = PermuteToSelf(model->layout(), model->symmetry(), other, *a);
  EXPECT_LT((merged->params - (0.7f * self + 0.3f * aligned)).cwiseAbs().maxCoeff(), 1e-6f);
  // The aligned neighbour computes the same function as the original one.
  Eigen::MatrixXf l1, l2;
  model->Logits(other, probe, &l1);
  model->Logits(aligned, probe, &l2);
  EXPECT_LT((l1 - l2).cwiseAbs().maxCoeff(), 1e-4f);
  // Matching raises the mean correlation of the pairs above the identity pairing.
  for (double s : a->scores) EXPECT_GT(s, 0.0);
}

TEST(DimatTest, OneShotMatchingEqualsSequentialMatching) {
  // The header's claim: matching all groups from the unpermuted neighbour gives the
  // same permutations as re-running the forward pass after permuting each group.
  for (bool cnn : {false, true}) {
    auto model = cnn ? testing::SmallCnn() : testing::SmallMlp();
    const Eigen::VectorXf self = model->InitParams(41);
    const Eigen::VectorXf other = model->InitParams(42);
    const Eigen::MatrixXf probe = GaussianProbe(model->input_shape().size(), 300, 43);
    Result<Alignment> one_shot = MatchByActivations(*model, self, other, probe);
    ASSERT_TRUE(one_shot.ok());
    Eigen::VectorXf partial = other;
    for (size_t g = 0; g < model->symmetry().groups.size(); ++g) {
      Result<Alignment> step = MatchByActivations(*model, self, partial, probe);
      ASSERT_TRUE(step.ok());
      EXPECT_EQ(step->perms[g], one_shot->perms[g]) << "cnn=" << cnn << " group " << g;
      // Not bit-equal: permuted columns change the float summation order.
      EXPECT_NEAR(step->scores[g], one_shot->scores[g], 1e-5);
      learn::ApplyPermutation(model->layout(), model->symmetry().groups[g], step->perms[g],
                              &partial);
    }
  }
}

TEST(DimatTest, RejectsBadInput) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(1);
  const Eigen::VectorXf other = model->InitParams(2);
  const Eigen::VectorXf wrong = Eigen::VectorXf::Zero(5);
  const Eigen::MatrixXf probe = GaussianProbe(20, 50, 3);
  const NeighbourModel bad_weights[] = {{&other, 0.6}};
  EXPECT_EQ(DimatMerge(*model, self, 0.5, bad_weights, probe).status().code(),
            StatusCode::kInvalidInput);
  const NeighbourModel bad_size[] = {{&wrong, 0.5}};
  EXPECT_EQ(DimatMerge(*model, self, 0.5, bad_size, probe).status().code(),
            StatusCode::kInvalidInput);
  const NeighbourModel ok[] = {{&other, 0.5}};
  const Eigen::MatrixXf bad_probe = GaussianProbe(19, 50, 3);
  EXPECT_EQ(DimatMerge(*model, self, 0.5, ok, bad_probe).status().code(),
            StatusCode::kInvalidInput);
  Eigen::VectorXf nan_model = other;
  nan_model(3) = std::numeric_limits<float>::quiet_NaN();
  const NeighbourModel nan_nb[] = {{&nan_model, 0.5}};
  EXPECT_EQ(DimatMerge(*model, self, 0.5, nan_nb, probe).status().code(),
            StatusCode::kInvalidInput);
}

}  // namespace
}  // namespace grapevine::merge
