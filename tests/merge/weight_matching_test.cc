#include "merge/weight_matching.h"

#include <gtest/gtest.h>

#include "merge_test_util.h"

namespace grapevine::merge {
namespace {

using testing::Inverse;
using testing::RandomlyPermuted;

void ExpectMatchingRecoversPermutedCopy(learn::Model& model, uint64_t seed) {
  const Eigen::VectorXf self = model.InitParams(seed);
  const testing::PermutedCopy copy = RandomlyPermuted(model, self, seed + 100);
  ASSERT_GT((copy.params - self).cwiseAbs().maxCoeff(), 1e-3f);
  Result<Alignment> a = MatchByWeights(model.layout(), model.symmetry(), self, copy.params,
                                       {.max_iterations = 50, .seed = seed});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  for (size_t g = 0; g < copy.perms.size(); ++g) {
    EXPECT_EQ(a->perms[g], Inverse(copy.perms[g])) << "group " << g;
    EXPECT_NEAR(a->scores[g], 1.0, 1e-5);
  }
  EXPECT_GE(a->iterations, 2);  // one pass that changes, one that confirms
  const NeighbourModel nb[] = {{&copy.params, 0.5}};
  Result<MergeResult> merged =
      WeightMatchingMerge(model.layout(), model.symmetry(), self, 0.5, nb);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_LT((merged->params - self).cwiseAbs().maxCoeff(), 1e-6f);
}

TEST(WeightMatchingTest, MlpPermutedCopyMergesBackExactly) {
  auto model = testing::SmallMlp();
  for (uint64_t seed : {1u, 2u, 3u}) ExpectMatchingRecoversPermutedCopy(*model, seed);
}

TEST(WeightMatchingTest, CnnPermutedCopyMergesBackExactly) {
  auto model = testing::SmallCnn();
  for (uint64_t seed : {4u, 5u}) ExpectMatchingRecoversPermutedCopy(*model, seed);
}

TEST(WeightMatchingTest, ImprovesWeightSimilarityOfUnrelatedModels) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(31);
  const Eigen::VectorXf other = model->InitParams(32);
  Result<Alignment> a = MatchByWeights(model->layout(), model->symmetry(), self, other);
  ASSERT_TRUE(a.ok());
  const Eigen::VectorXf aligned = PermuteToSelf(model->layout(), model->symmetry(), other, *a);
  // Aligning can only bring the permuted tensors closer (identity is a candidate).
  EXPECT_LT((aligned - self).squaredNorm(), (other - self).squaredNorm());
  // Function preserved.
  const Eigen::MatrixXf probe = testing::GaussianProbe(20, 64, 33);
  Eigen::MatrixXf l1, l2;
  model->Logits(other, probe, &l1);
  model->Logits(aligned, probe, &l2);
  EXPECT_LT((l1 - l2).cwiseAbs().maxCoeff(), 1e-4f);
  // Same seed, same answer.
  Result<Alignment> again = MatchByWeights(model->layout(), model->symmetry(), self, other);
  EXPECT_EQ(again->perms, a->perms);
}

TEST(WeightMatchingTest, RejectsBadInput) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(1);
  const Eigen::VectorXf wrong = Eigen::VectorXf::Zero(7);
  const NeighbourModel nb[] = {{&wrong, 0.5}};
  EXPECT_EQ(WeightMatchingMerge(model->layout(), model->symmetry(), self, 0.5, nb).status().code(),
            StatusCode::kInvalidInput);
}

}  // namespace
}  // namespace grapevine::merge
