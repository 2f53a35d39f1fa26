// Optimizer and schedule arithmetic against hand-computed values (PyTorch semantics).
#include <gtest/gtest.h>

#include <cmath>

#include "learn/optimizer.h"
#include "learn/schedule.h"

namespace grapevine::learn {
namespace {

using Eigen::VectorXf;

VectorXf Vec(std::initializer_list<float> v) {
  VectorXf out(static_cast<int64_t>(v.size()));
  int i = 0;
  for (float x : v) out(i++) = x;
  return out;
}

TEST(OptimizerTest, PlainSgdWithWeightDecay) {
  OptimizerOptions o;
  o.weight_decay = 0.1f;
  Optimizer opt(o, 2);
  VectorXf p = Vec({1.0f, -2.0f});
  opt.Step(0.5f, Vec({0.2f, 0.4f}), &p);
  // p − lr·(g + wd·p): 1 − 0.5·(0.2 + 0.1) = 0.85; −2 − 0.5·(0.4 − 0.2) = −2.1
  EXPECT_NEAR(p(0), 0.85f, 1e-6);
  EXPECT_NEAR(p(1), -2.1f, 1e-6);
  EXPECT_EQ(opt.first_moment().size(), 0);
}

TEST(OptimizerTest, HeavyBallMomentum) {
  OptimizerOptions o;
  o.momentum = 0.9f;
  Optimizer opt(o, 1);
  VectorXf p = Vec({1.0f});
  opt.Step(0.1f, Vec({1.0f}), &p);  // buf = 1, p = 0.9
  EXPECT_NEAR(p(0), 0.9f, 1e-6);
  opt.Step(0.1f, Vec({2.0f}), &p);  // buf = 0.9 + 2 = 2.9, p = 0.9 − 0.29 = 0.61
  EXPECT_NEAR(p(0), 0.61f, 1e-6);
  EXPECT_NEAR(opt.first_moment()(0), 2.9f, 1e-6);
  opt.Reset();
  EXPECT_EQ(opt.first_moment()(0), 0.0f);
  opt.Step(0.1f, Vec({1.0f}), &p);  // state gone: buf = 1, p = 0.51
  EXPECT_NEAR(p(0), 0.51f, 1e-6);
}

TEST(OptimizerTest, Nesterov) {
  OptimizerOptions o;
  o.momentum = 0.9f;
  o.nesterov = true;
  Optimizer opt(o, 1);
  VectorXf p = Vec({1.0f});
  opt.Step(0.1f, Vec({1.0f}), &p);  // buf = 1, d = 1 + 0.9 = 1.9, p = 0.81
  EXPECT_NEAR(p(0), 0.81f, 1e-6);
  opt.Step(0.1f, Vec({2.0f}), &p);  // buf = 2.9, d = 2 + 2.61 = 4.61, p = 0.349
  EXPECT_NEAR(p(0), 0.349f, 1e-6);
}

TEST(OptimizerTest, AdamFirstStepsAndL2) {
  OptimizerOptions o;
  o.kind = OptimizerKind::kAdam;
  Optimizer opt(o, 2);
  VectorXf p = Vec({1.0f, 1.0f});
  opt.Step(0.01f, Vec({0.5f, -3.0f}), &p);
  // Step 1: m̂ = g, v̂ = g², update = lr·g/(|g| + ε) ≈ lr·sign(g).
  EXPECT_NEAR(p(0), 0.99f, 1e-6);
  EXPECT_NEAR(p(1), 1.01f, 1e-6);
  opt.Step(0.01f, Vec({0.1f, -3.0f}), &p);
  // Step 2, entry 0: m = 0.9·0.05 + 0.01 = 0.055; v = 0.999·0.00025 + 0.001·0.01 = 0.00026;
  // m̂ = 0.055/0.19; v̂ = 0.00026/0.001999.
  const double m_hat = 0.055 / 0.19, v_hat = 0.00025975 / (1 - 0.999 * 0.999);
  EXPECT_NEAR(p(0), 0.99 - 0.01 * m_hat / (std::sqrt(v_hat) + 1e-8), 1e-6);
  EXPECT_EQ(opt.steps(), 2);

  o.weight_decay = 0.5f;  // torch Adam: g += wd·p before the moments
  Optimizer l2(o, 1);
  VectorXf q = Vec({2.0f});
  l2.Step(0.01f, Vec({-0.5f}), &q);  // g = −0.5 + 1 = 0.5 > 0 → q decreases by lr
  EXPECT_NEAR(q(0), 1.99f, 1e-6);
}

TEST(OptimizerTest, AdamWDecouplesDecay) {
  OptimizerOptions o;
  o.kind = OptimizerKind::kAdamW;
  o.weight_decay = 0.5f;
  Optimizer opt(o, 1);
  VectorXf p = Vec({2.0f});
  opt.Step(0.01f, Vec({-0.5f}), &p);  // p·(1 − 0.005) + 0.01 = 1.99 + 0.01 = 2.0
  EXPECT_NEAR(p(0), 2.0f * 0.995f + 0.01f, 1e-6);
}

TEST(OptimizerTest, ParseAndValidate) {
  EXPECT_EQ(*ParseOptimizerKind("adam"), OptimizerKind::kAdam);
  EXPECT_FALSE(ParseOptimizerKind("rmsprop").ok());
  OptimizerOptions o;
  o.nesterov = true;
  EXPECT_FALSE(ValidateOptimizerOptions(o).ok());
  o.momentum = 0.9f;
  EXPECT_TRUE(ValidateOptimizerOptions(o).ok());
  o.momentum = 1.5f;
  EXPECT_FALSE(ValidateOptimizerOptions(o).ok());
}

TEST(ScheduleTest, ConstantStepCosine) {
  Schedule constant = *ParseSchedule("constant");
  EXPECT_DOUBLE_EQ(ScheduledRate(constant, 0.1, 500, 10, 100), 0.1);

  Schedule step = *ParseSchedule("step:0.5:2");
  EXPECT_DOUBLE_EQ(ScheduledRate(step, 0.1, 0, 10, 0), 0.1);    // epoch 0
  EXPECT_DOUBLE_EQ(ScheduledRate(step, 0.1, 19, 10, 0), 0.1);   // epoch 1
  EXPECT_DOUBLE_EQ(ScheduledRate(step, 0.1, 20, 10, 0), 0.05);  // epoch 2
  EXPECT_DOUBLE_EQ(ScheduledRate(step, 0.1, 45, 10, 0), 0.025);
  Schedule every_epoch = *ParseSchedule("step:0.1");
  EXPECT_EQ(every_epoch.every, 1);
  EXPECT_NEAR(ScheduledRate(every_epoch, 1.0, 30, 10, 0), 1e-3, 1e-12);

  Schedule cosine = *ParseSchedule("cosine");
  EXPECT_DOUBLE_EQ(ScheduledRate(cosine, 0.2, 0, 10, 100), 0.2);
  EXPECT_NEAR(ScheduledRate(cosine, 0.2, 50, 10, 100), 0.1, 1e-12);
  EXPECT_NEAR(ScheduledRate(cosine, 0.2, 100, 10, 100), 0.0, 1e-12);
  EXPECT_NEAR(ScheduledRate(cosine, 0.2, 25, 10, 100), 0.1 * (1 + std::sqrt(0.5)), 1e-12);
  EXPECT_DOUBLE_EQ(ScheduledRate(cosine, 0.2, 50, 10, 0), 0.2);  // no horizon
}

TEST(ScheduleTest, ParseErrors) {
  for (const char* bad : {"linear", "step", "step:", "step:2", "step:0", "step:0.5:0",
                          "step:0.5:x", "step:abc", "cosine:3"}) {
    auto s = ParseSchedule(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
  EXPECT_EQ(ScheduleName(*ParseSchedule("step:0.5:3")), "step:0.5:3");
}

}  // namespace
}  // namespace grapevine::learn
