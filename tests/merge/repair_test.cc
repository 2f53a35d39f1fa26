#include "merge/repair.h"

#include <gtest/gtest.h>

#include <cmath>

#include "merge/average.h"
#include "merge/dimat.h"
#include "merge_test_util.h"

namespace grapevine::merge {
namespace {

using testing::GaussianProbe;
using testing::Inverse;
using testing::RandomlyPermuted;

struct Moments {
  std::vector<Eigen::VectorXd> mean, stddev;  // [group][unit]
};

// Two-pass per-unit moments of the pre-activations over the whole probe.
Moments PreActivationMoments(learn::Model& model, const Eigen::VectorXf& params,
                             const Eigen::MatrixXf& probe) {
  Moments m;
  for (const Eigen::MatrixXf& z : model.HiddenPreActivations(params, probe)) {
    const Eigen::MatrixXd d = z.cast<double>();
    const Eigen::VectorXd mean = d.rowwise().mean();
    m.mean.push_back(mean);
    m.stddev.push_back(
        ((d.colwise() - mean).rowwise().squaredNorm() / static_cast<double>(d.cols())).cwiseSqrt());
  }
  return m;
}

void ExpectRepairHitsTheTargets(learn::Model& model) {
  const Eigen::VectorXf a = model.InitParams(1);
  const Eigen::VectorXf b = model.InitParams(2);
  const Eigen::MatrixXf probe = GaussianProbe(model.input_shape().size(), 300, 5);
  const Eigen::VectorXf* both[] = {&a, &b};
  const double weights[] = {0.25, 0.75};
  Eigen::VectorXf merged;
  ASSERT_TRUE(WeightedAverage(both, weights, &merged).ok());
  const Moments before = PreActivationMoments(model, merged, probe);

  const RepairEndpoint ends[] = {{&a, 0.25, nullptr}, {&b, 0.75, nullptr}};
  // Batches of 64 do not divide 300: the streaming moments must merge unequal batches.
  Result<RepairStats> stats = Repair(model, ends, probe, 64, &merged);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  ASSERT_EQ(stats->mean_scale.size(), model.symmetry().groups.size());

  const Moments ma = PreActivationMoments(model, a, probe);
  const Moments mb = PreActivationMoments(model, b, probe);
  const Moments after = PreActivationMoments(model, merged, probe);
  double shrink = 0.0;
  for (size_t g = 0; g < after.mean.size(); ++g) {
    const Eigen::VectorXd mean = 0.25 * ma.mean[g] + 0.75 * mb.mean[g];
    const Eigen::VectorXd sd = 0.25 * ma.stddev[g] + 0.75 * mb.stddev[g];
    const double scale = sd.maxCoeff();
    EXPECT_LT((after.mean[g] - mean).cwiseAbs().maxCoeff(), 1e-4 * scale) << "group " << g;
    EXPECT_LT((after.stddev[g] - sd).cwiseAbs().maxCoeff(), 1e-4 * scale) << "group " << g;
    shrink = std::max(shrink, (before.stddev[g] - sd).cwiseAbs().maxCoeff() / scale);
  }
  // The plain average did NOT have these statistics: the check above can fail.
  EXPECT_GT(shrink, 0.05);
}

TEST(RepairTest, MergedUnitsTakeTheWeightedEndpointStatisticsMlp) {
  auto model = testing::SmallMlp();
  ExpectRepairHitsTheTargets(*model);
}

TEST(RepairTest, MergedUnitsTakeTheWeightedEndpointStatisticsCnn) {
  auto model = testing::SmallCnn();
  ExpectRepairHitsTheTargets(*model);
}

TEST(RepairTest, AlignmentReadsTheNeighboursUnitsInSelfsOrder) {
  for (auto* make : {&testing::SmallMlp, &testing::SmallCnn}) {
    auto model = make();
    const Eigen::VectorXf a = model->InitParams(3);
    const Eigen::VectorXf b = model->InitParams(4);
    const testing::PermutedCopy shuffled = RandomlyPermuted(*model, b, 9);
    Alignment back;  // shuffled's units in b's (= self's merge) order
    for (const auto& perm : shuffled.perms) back.perms.push_back(Inverse(perm));
    const Eigen::MatrixXf probe = GaussianProbe(model->input_shape().size(), 200, 6);
    const Eigen::VectorXf* both[] = {&a, &b};
    const double half[] = {0.5, 0.5};
    Eigen::VectorXf direct, via_alignment;
    ASSERT_TRUE(WeightedAverage(both, half, &direct).ok());
    via_alignment = direct;
    const RepairEndpoint plain[] = {{&a, 1.0, nullptr}, {&b, 1.0, nullptr}};
    const RepairEndpoint aligned[] = {{&a, 1.0, nullptr}, {&shuffled.params, 1.0, &back}};
    ASSERT_TRUE(Repair(*model, plain, probe, 50, &direct).ok());
    ASSERT_TRUE(Repair(*model, aligned, probe, 50, &via_alignment).ok());
    EXPECT_LT((direct - via_alignment).cwiseAbs().maxCoeff(), 1e-5f);
    // Reading the shuffled neighbour WITHOUT its alignment gives other targets.
    Eigen::VectorXf wrong;
    ASSERT_TRUE(WeightedAverage(both, half, &wrong).ok());
    const RepairEndpoint unaligned[] = {{&a, 1.0, nullptr}, {&shuffled.params, 1.0, nullptr}};
    ASSERT_TRUE(Repair(*model, unaligned, probe, 50, &wrong).ok());
    EXPECT_GT((direct - wrong).cwiseAbs().maxCoeff(), 1e-3f);
  }
}

TEST(RepairTest, DimatMergeOfAPermutedCopyStaysExact) {
  for (auto* make : {&testing::SmallMlp, &testing::SmallCnn}) {
    auto model = make();
    const Eigen::VectorXf self = model->InitParams(7);
    const testing::PermutedCopy copy = RandomlyPermuted(*model, self, 8);
    const Eigen::MatrixXf probe = GaussianProbe(model->input_shape().size(), 400, 2);
    const NeighbourModel nb[] = {{&copy.params, 0.5}};
    Result<MergeResult> merged =
        DimatMerge(*model, self, 0.5, nb, probe,
                   {.probe_batch = 100, .repair = RepairMode::kEvery});
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_LT((merged->params - self).cwiseAbs().maxCoeff(), 1e-4f);
    ASSERT_EQ(merged->stats.repair_scale.size(), model->symmetry().groups.size());
    for (double s : merged->stats.repair_scale) EXPECT_NEAR(s, 1.0, 1e-4);
  }
}

TEST(RepairTest, ModeSaysWhichMergesAreRepaired) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf self = model->InitParams(1), other = model->InitParams(2);
  const Eigen::MatrixXf probe = GaussianProbe(20, 100, 3);
  // {neighbour in self's frame?, mode, repaired?}
  const struct {
    bool aligned;
    RepairMode mode;
    bool repaired;
  } cases[] = {{false, RepairMode::kOff, false},    {true, RepairMode::kOff, false},
               {false, RepairMode::kMatched, true}, {true, RepairMode::kMatched, false},
               {false, RepairMode::kEvery, true},   {true, RepairMode::kEvery, true}};
  for (const auto& c : cases) {
    const NeighbourModel nb[] = {{&other, 0.5, c.aligned}};
    Result<MergeResult> merged = DimatMerge(*model, self, 0.5, nb, probe, {.repair = c.mode});
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(!merged->stats.repair_scale.empty(), c.repaired)
        << "aligned " << c.aligned << " mode " << static_cast<int>(c.mode);
  }
  EXPECT_EQ(*ParseRepairMode("every"), RepairMode::kEvery);
  EXPECT_EQ(*ParseRepairMode("matched"), RepairMode::kMatched);
  EXPECT_EQ(*ParseRepairMode("off"), RepairMode::kOff);
  EXPECT_FALSE(ParseRepairMode("true").ok());
}

TEST(RepairTest, BadInputIsInvalid) {
  auto model = testing::SmallMlp();
  const Eigen::VectorXf a = model->InitParams(1);
  const Eigen::VectorXf short_params = Eigen::VectorXf::Zero(5);
  const Eigen::MatrixXf probe = GaussianProbe(20, 50, 1);
  Eigen::VectorXf merged = a;
  const RepairEndpoint ok[] = {{&a, 1.0, nullptr}};
  const RepairEndpoint zero[] = {{&a, 0.0, nullptr}};
  const RepairEndpoint too_short[] = {{&short_params, 1.0, nullptr}};
  Alignment bad;
  bad.perms = {{0, 0}, {}};
  const RepairEndpoint bad_alignment[] = {{&a, 1.0, &bad}};
  EXPECT_FALSE(Repair(*model, zero, probe, 10, &merged).ok());
  EXPECT_FALSE(Repair(*model, too_short, probe, 10, &merged).ok());
  EXPECT_FALSE(Repair(*model, bad_alignment, probe, 10, &merged).ok());
  EXPECT_FALSE(Repair(*model, {}, probe, 10, &merged).ok());
  EXPECT_FALSE(Repair(*model, ok, GaussianProbe(19, 50, 1), 10, &merged).ok());
  EXPECT_FALSE(Repair(*model, ok, probe.leftCols(1), 10, &merged).ok());
  EXPECT_FALSE(Repair(*model, ok, probe, 0, &merged).ok());
  EXPECT_EQ(merged, a);  // nothing was changed by a rejected call
  // Self as its own only endpoint: already at its targets.
  ASSERT_TRUE(Repair(*model, ok, probe, 10, &merged).ok());
  EXPECT_LT((merged - a).cwiseAbs().maxCoeff(), 1e-5f);
}

}  // namespace
}  // namespace grapevine::merge
