// Gradient-norm clipping (TrainerOptions::clip_grad_norm, --clip-grad-norm): the step it
// takes, what it leaves alone, and the reason it is on by default — on a 2-class
// Fashion-MNIST shard (Dress + Bag, one agent's shard of `--partition classes:2` on a
// ring of 5) the default lr 0.05 / momentum 0.9 diverges for some seeds without it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "learn/data.h"
#include "learn/model.h"
#include "learn/synthetic.h"
#include "learn/trainer.h"

namespace grapevine::learn {
namespace {

DataSplit Synthetic() {
  SyntheticOptions o;
  o.train = 200;
  o.test = 50;
  o.features = 8;
  o.classes = 3;
  return MakeSynthetic(o, 7);
}

std::unique_ptr<Trainer> MakeTrainer(const Dataset& shard, const TrainerOptions& options,
                                     const std::string& spec) {
  auto model = ParseModel(spec, shard.shape, shard.num_classes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  auto trainer = Trainer::Create(std::move(model).value(), shard, options);
  EXPECT_TRUE(trainer.ok()) << trainer.status().ToString();
  return std::move(trainer).value();
}

TEST(TrainerClipTest, ALargeGradientIsScaledToTheNormASmallOneIsNot) {
  const DataSplit data = Synthetic();
  TrainerOptions options;  // plain SGD: the step is exactly -lr * (clipped) gradient
  options.learning_rate = 0.1;
  options.clip_grad_norm = 2.0;
  auto trainer = MakeTrainer(data.train, options, "mlp:8-6-3");
  const int64_t n = trainer->model().num_params();

  Eigen::VectorXf big = Eigen::VectorXf::LinSpaced(n, -1.0f, 3.0f);
  big *= 50.0f / big.norm();  // norm 50 > 2
  Eigen::VectorXf before = trainer->params();
  trainer->ComputeGradient();
  trainer->ApplyGradient(big);
  Eigen::VectorXf moved = before - trainer->params();
  EXPECT_NEAR(moved.norm(), 0.1 * 2.0, 1e-5);
  EXPECT_LT((moved / moved.norm() - big / big.norm()).norm(), 1e-4);  // same direction
  EXPECT_EQ(trainer->clipped_steps(), 1);

  Eigen::VectorXf small = big * (1.5f / big.norm());  // norm 1.5 <= 2: untouched
  before = trainer->params();
  trainer->ComputeGradient();
  trainer->ApplyGradient(small);
  EXPECT_LT(((before - trainer->params()) - 0.1f * small).norm(), 1e-6);
  EXPECT_EQ(trainer->clipped_steps(), 1);

  // A non-finite gradient is not hidden by the scaling: the caller's loss check sees it.
  Eigen::VectorXf bad = small;
  bad[0] = std::numeric_limits<float>::quiet_NaN();
  trainer->ComputeGradient();
  trainer->ApplyGradient(bad);
  EXPECT_FALSE(trainer->params().allFinite());
}

TEST(TrainerClipTest, OffMeansTheRawGradient) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.learning_rate = 0.1;
  options.clip_grad_norm = 0.0;
  auto trainer = MakeTrainer(data.train, options, "mlp:8-6-3");
  Eigen::VectorXf g = Eigen::VectorXf::Constant(trainer->model().num_params(), 10.0f);
  const Eigen::VectorXf before = trainer->params();
  trainer->ComputeGradient();
  trainer->ApplyGradient(g);
  EXPECT_LT(((before - trainer->params()) - 0.1f * g).norm(), 1e-4);
  EXPECT_EQ(trainer->clipped_steps(), 0);
}

TEST(TrainerClipTest, RecipeCarriesTheDefaultAndRejectsANegativeNorm) {
  TrainingRecipe recipe;
  EXPECT_EQ(recipe.clip_grad_norm, kDefaultClipGradNorm);
  EXPECT_GT(kDefaultClipGradNorm, 0.0);
  auto options = TrainerOptionsFrom(recipe);
  ASSERT_TRUE(options.ok());
  EXPECT_EQ(options->clip_grad_norm, kDefaultClipGradNorm);
  recipe.clip_grad_norm = 0;
  EXPECT_EQ(TrainerOptionsFrom(recipe)->clip_grad_norm, 0.0);
  recipe.clip_grad_norm = -1;
  auto bad = TrainerOptionsFrom(recipe);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--clip-grad-norm"), std::string::npos);
}

// Trains `steps` default-recipe steps (clip as given) on the shard; true if the loss
// became non-finite.
bool Diverges(const Dataset& shard, double clip, uint64_t seed, int steps, double* last_loss) {
  TrainingRecipe recipe;  // the defaults every command starts from
  recipe.clip_grad_norm = clip;
  TrainerOptions options = TrainerOptionsFrom(recipe).value();
  options.seed = seed;
  auto trainer = MakeTrainer(shard, options, "mlp");
  double loss = 0;
  for (int s = 0; s < steps; ++s) {
    loss = trainer->Step();
    if (!std::isfinite(loss)) return true;
  }
  *last_loss = loss;
  return false;
}

TEST(TrainerClipTest, DefaultsTrainATwoClassFashionMnistShardThatDivergesWithoutClipping) {
  if (!std::filesystem::exists(kFashionMnistDir)) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  auto data = LoadData("fashion-mnist", 1);
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  std::vector<int64_t> dress_and_bag;
  for (size_t i = 0; i < data->train.y.size(); ++i) {
    if (data->train.y[i] == 3 || data->train.y[i] == 8) {
      dress_and_bag.push_back(static_cast<int64_t>(i));
    }
  }
  const Dataset shard = data->train.Subset(dress_and_bag);
  ASSERT_EQ(shard.size(), 12000);

  constexpr int kSeeds = 6;
  constexpr int kSteps = 150;
  int diverged_unclipped = 0;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    double loss = 0;
    diverged_unclipped += Diverges(shard, 0.0, seed, kSteps, &loss) ? 1 : 0;
  }
  // Measured: seeds 4, 5 and 6 blow up (loss → inf at steps 121, 116, 52) without clipping.
  EXPECT_GE(diverged_unclipped, 1) << "the unclipped defaults no longer diverge here";

  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    double loss = 0;
    EXPECT_FALSE(Diverges(shard, kDefaultClipGradNorm, seed, kSteps, &loss)) << "seed " << seed;
    EXPECT_LT(loss, 0.5) << "seed " << seed << ": trains, not just stays finite";
  }
}

}  // namespace
}  // namespace grapevine::learn
