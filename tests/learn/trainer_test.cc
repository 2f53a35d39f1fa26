// Trainer: learnability on a small synthetic problem (rr and grab orders), epoch and
// sample accounting, parameter access, and option validation.
#include <gtest/gtest.h>

#include <chrono>

#include "learn/model.h"
#include "learn/synthetic.h"
#include "learn/trainer.h"

namespace grapevine::learn {
namespace {

DataSplit Synthetic() {
  SyntheticOptions o;
  o.train = 1000;
  o.test = 400;
  o.features = 20;
  o.classes = 4;
  return MakeSynthetic(o, 42);
}

std::unique_ptr<Trainer> MakeTrainer(const DataSplit& data, TrainerOptions options,
                                     const std::string& spec = "mlp:20-32-4") {
  auto model = ParseModel(spec, data.train.shape, data.train.num_classes);
  EXPECT_TRUE(model.ok());
  auto trainer = Trainer::Create(std::move(model).value(), data.train, options);
  EXPECT_TRUE(trainer.ok()) << trainer.status().ToString();
  return std::move(trainer).value();
}

TEST(TrainerTest, LearnsSyntheticBlobs) {
  const DataSplit data = Synthetic();
  for (const std::string order : {"rr", "grab"}) {
    TrainerOptions options;
    options.batch_size = 32;
    options.learning_rate = 0.05;
    options.optimizer.momentum = 0.9f;
    options.order = order;
    options.grab_micro_batch = 8;
    auto trainer = MakeTrainer(data, options);
    const EvalResult before = trainer->Evaluate(data.test);
    double first_loss = trainer->TrainEpoch();
    double last_loss = first_loss;
    for (int e = 1; e < 8; ++e) last_loss = trainer->TrainEpoch();
    const EvalResult after = trainer->Evaluate(data.test);
    EXPECT_LT(last_loss, 0.6 * first_loss) << order;
    EXPECT_GT(after.accuracy, 0.8) << order;
    EXPECT_GT(after.accuracy, before.accuracy + 0.3) << order;
    EXPECT_EQ(trainer->epochs_completed(), 8);
    EXPECT_EQ(trainer->samples_seen(), 8 * 1000);
    EXPECT_EQ(trainer->steps(), 8 * 32);  // 31 full batches + one of 8 per epoch
  }
}

// Global sampling's per-step plan: a step of b examples at scale s is the step of a
// trainer with --batch b and lr·s on the same examples; a step of 0 examples leaves the
// parameters, the optimizer (momentum) and the example position alone but counts.
TEST(TrainerTest, PlannedStepsTakeTheirExamplesAndScale) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.batch_size = 32;
  options.learning_rate = 0.05;
  options.optimizer.momentum = 0.9f;
  auto planned = MakeTrainer(data, options);
  TrainerOptions big = options;
  big.batch_size = 100;  // more than --batch: the buffer grows
  big.learning_rate = 0.05 * 1.5;
  auto reference = MakeTrainer(data, big);
  ASSERT_EQ(planned->params(), reference->params());
  planned->PlanSteps({{100, 1.5f}, {0, 2.0f}});
  const float loss = planned->Step();
  EXPECT_EQ(loss, reference->Step());
  EXPECT_EQ(planned->params(), reference->params());
  const Eigen::VectorXf before = planned->params();
  EXPECT_EQ(planned->Step(), loss);  // 0 examples: the last loss, nothing moves
  EXPECT_EQ(planned->params(), before);
  EXPECT_EQ(planned->steps(), 2);
  EXPECT_EQ(planned->samples_seen(), 100);
  // After the plan: --batch at scale 1, from example 100 on, momentum as it was.
  planned->Step();
  EXPECT_EQ(planned->samples_seen(), 132);
  EXPECT_NE(planned->params(), before);
  EXPECT_FALSE(planned->step_pending());
}

// The straggler hook (--slowdown): once per gradient computation, with its duration;
// not for a planned step of 0 examples (nothing is computed). Results are unchanged.
TEST(TrainerTest, ComputeHookSeesEveryGradientComputation) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.batch_size = 32;
  auto hooked = MakeTrainer(data, options);
  auto plain = MakeTrainer(data, options);
  int calls = 0;
  std::chrono::nanoseconds total{0};
  hooked->set_compute_hook([&](std::chrono::nanoseconds d) {
    ++calls;
    EXPECT_GE(d.count(), 0);
    total += d;
  });
  EXPECT_EQ(hooked->Step(), plain->Step());
  EXPECT_EQ(calls, 1);
  hooked->ComputeGradient();
  EXPECT_EQ(calls, 2);
  hooked->ApplyGradient(hooked->gradient());
  EXPECT_EQ(calls, 2);
  Eigen::VectorXf g;
  hooked->GradientOnSample(hooked->params(), &g);
  EXPECT_EQ(calls, 3);
  hooked->PlanSteps({{0, 1.0f}});
  hooked->Step();
  EXPECT_EQ(calls, 3);
  EXPECT_GT(total.count(), 0);
}

TEST(TrainerTest, AdamAndCosineLearnToo) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.batch_size = 50;
  options.learning_rate = 3e-3;
  options.optimizer.kind = OptimizerKind::kAdam;
  options.schedule = *ParseSchedule("cosine");
  options.total_epochs = 5;
  auto trainer = MakeTrainer(data, options);
  EXPECT_DOUBLE_EQ(trainer->learning_rate(), 3e-3);
  for (int e = 0; e < 5; ++e) trainer->TrainEpoch();
  EXPECT_NEAR(trainer->learning_rate(), 0.0, 1e-12);
  EXPECT_GT(trainer->Evaluate(data.test).accuracy, 0.8);
}

TEST(TrainerTest, StepIsDeterministicAndParamsAreSwappable) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.seed = 9;
  auto a = MakeTrainer(data, options);
  auto b = MakeTrainer(data, options);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(a->Step(), b->Step());
  EXPECT_EQ(a->params(), b->params());
  // An agent swaps in merged parameters and resets the optimizer.
  Eigen::VectorXf merged = 0.5f * (a->params() + a->model().InitParams(1));
  a->SetParams(merged);
  a->ResetOptimizer();
  EXPECT_EQ(a->params(), merged);
  EXPECT_EQ(a->optimizer().steps(), 0);
  a->mutable_params().setZero();
  EXPECT_TRUE(a->params().isZero());
}

TEST(TrainerTest, SplitStepMatchesStep) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.batch_size = 48;  // 1000 % 48 != 0: the split step crosses a short last batch
  options.optimizer.momentum = 0.9f;
  auto whole = MakeTrainer(data, options);
  auto split = MakeTrainer(data, options);
  Eigen::VectorXf scratch;
  for (int i = 0; i < 30; ++i) {
    const float a = whole->Step();
    const float b = split->ComputeGradient();
    // A cross-gradient in between must not disturb the pending step.
    split->GradientOnSample(whole->params(), &scratch);
    split->ApplyGradient(split->gradient());
    EXPECT_EQ(a, b) << "step " << i;
  }
  EXPECT_EQ(whole->params(), split->params());
  EXPECT_EQ(whole->steps(), split->steps());
  EXPECT_EQ(whole->samples_seen(), split->samples_seen());
  EXPECT_EQ(whole->epochs_completed(), split->epochs_completed());
}

TEST(TrainerTest, ApplyGradientUsesTheGivenGradient) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  options.learning_rate = 0.1;
  options.optimizer.momentum = 0.0f;
  auto t = MakeTrainer(data, options);
  const Eigen::VectorXf before = t->params();
  t->ComputeGradient();
  const Eigen::VectorXf g = Eigen::VectorXf::Constant(before.size(), 2.0f);
  t->ApplyGradient(g);
  const Eigen::VectorXf expected = (before.array() - 0.2f).matrix();  // plain SGD: x − lr·g
  EXPECT_TRUE(t->params().isApprox(expected, 1e-6f));
  EXPECT_EQ(t->steps(), 1);
}

TEST(TrainerTest, GradientOnSampleIsTheGradientOfTheGivenModel) {
  const DataSplit data = Synthetic();
  TrainerOptions options;
  auto t = MakeTrainer(data, options);
  auto other = MakeTrainer(data, options);
  for (int i = 0; i < 20; ++i) other->Step();  // a different model
  Eigen::VectorXf g_other, g_self;
  const float loss_other = t->GradientOnSample(other->params(), &g_other);
  const float loss_self = t->GradientOnSample(t->params(), &g_self);
  ASSERT_EQ(g_other.size(), t->params().size());
  EXPECT_GT(g_other.norm(), 0.0f);
  EXPECT_GT(loss_self, loss_other);  // the trained model has the lower loss
  EXPECT_EQ(t->steps(), 0);          // nothing of t's own state moved
  EXPECT_EQ(t->samples_seen(), 0);
}

TEST(TrainerTest, RejectsBadInput) {
  const DataSplit data = Synthetic();
  auto model = [&](const std::string& spec) {
    return std::move(ParseModel(spec, data.train.shape, 4)).value();
  };
  TrainerOptions options;
  options.order = "sorted";
  EXPECT_FALSE(Trainer::Create(model("mlp:20-4"), data.train, options).ok());
  options = TrainerOptions();
  options.batch_size = 0;
  EXPECT_FALSE(Trainer::Create(model("mlp:20-4"), data.train, options).ok());
  options = TrainerOptions();
  EXPECT_FALSE(Trainer::Create(model("mlp:20-4"), Dataset(), options).ok());
  EXPECT_FALSE(
      Trainer::Create(model("mlp:20-4"), data.train, options, Eigen::VectorXf::Zero(3)).ok());
  auto wrong = std::move(ParseModel("mlp:21-4", Shape{1, 1, 21}, 4)).value();
  EXPECT_FALSE(Trainer::Create(std::move(wrong), data.train, options).ok());
}

}  // namespace
}  // namespace grapevine::learn

namespace grapevine::learn {
namespace {

TEST(TrainerOptionsFromTest, SgdKeepsMomentumAdamDropsIt) {
  TrainingRecipe r;
  r.momentum = 0.9;
  r.nesterov = true;
  auto sgd = TrainerOptionsFrom(r);
  ASSERT_TRUE(sgd.ok()) << sgd.status().message();
  EXPECT_FLOAT_EQ(sgd->optimizer.momentum, 0.9f);
  EXPECT_TRUE(sgd->optimizer.nesterov);
  r.optimizer = "adam";
  auto adam = TrainerOptionsFrom(r);
  ASSERT_TRUE(adam.ok()) << adam.status().message();
  EXPECT_EQ(adam->optimizer.kind, OptimizerKind::kAdam);
  EXPECT_EQ(adam->optimizer.momentum, 0.0f);
  EXPECT_FALSE(adam->optimizer.nesterov);
}

TEST(TrainerOptionsFromTest, RejectsBadFlagsNamingThem) {
  TrainingRecipe r;
  r.order = "zigzag";
  EXPECT_NE(TrainerOptionsFrom(r).status().message().find("--order"), std::string::npos);
  r = TrainingRecipe{};
  r.lr = 0;
  EXPECT_NE(TrainerOptionsFrom(r).status().message().find("--lr"), std::string::npos);
  r = TrainingRecipe{};
  r.optimizer = "rmsprop";
  EXPECT_FALSE(TrainerOptionsFrom(r).ok());
  r = TrainingRecipe{};
  r.schedule = "wobbly";
  EXPECT_FALSE(TrainerOptionsFrom(r).ok());
}

}  // namespace
}  // namespace grapevine::learn
