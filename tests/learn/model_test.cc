// Whole-model tests: spec parsing (layouts and errors), init, fingerprint, full
// finite-difference gradient checks of an MLP and a CNN, and the invariance of the
// model's function under its own permutation symmetry.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <algorithm>
#include <numeric>
#include <random>

#include "learn/model.h"
#include "tests/learn/grad_check.h"

namespace grapevine::learn {
namespace {

using Eigen::MatrixXf;
using Eigen::VectorXf;
using testing::ExpectGradientMatches;
using testing::RandomMatrix;

std::unique_ptr<Model> MustParse(const std::string& spec, Shape shape, int classes) {
  auto model = ParseModel(spec, shape, classes);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  return std::move(model).value();
}

TEST(ModelSpecTest, MlpLayoutAndSymmetry) {
  auto model = MustParse("mlp:784-256-128-10", Shape{1, 28, 28}, 10);
  const ParamLayout& layout = model->layout();
  ASSERT_EQ(layout.num_tensors(), 6);
  EXPECT_EQ(layout.tensor(0).rows, 256);
  EXPECT_EQ(layout.tensor(0).cols, 784);
  EXPECT_EQ(layout.tensor(1).rows, 256);
  EXPECT_EQ(layout.tensor(1).cols, 1);
  EXPECT_EQ(layout.size(), 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  const SymmetrySpec& sym = model->symmetry();
  ASSERT_EQ(sym.groups.size(), 2u);
  EXPECT_EQ(sym.groups[0].units, 256);
  ASSERT_EQ(sym.groups[0].moves.size(), 3u);
  EXPECT_EQ(sym.groups[0].moves[2].tensor, 2);
  EXPECT_EQ(sym.groups[0].moves[2].axis, Axis::kCols);
  EXPECT_EQ(sym.groups[0].moves[2].block, 1);
  EXPECT_EQ(sym.groups[1].units, 128);
}

TEST(ModelSpecTest, PlainMlpTakesItsEndsFromTheData) {
  auto fashion = MustParse("mlp", Shape{1, 28, 28}, 10);
  EXPECT_EQ(fashion->spec(), "mlp:784-256-128-10");
  auto synthetic = MustParse("mlp", Shape{1, 1, 20}, 4);
  EXPECT_EQ(synthetic->spec(), "mlp:20-256-128-4");
  EXPECT_EQ(synthetic->layout().tensor(0).cols, 20);
}

TEST(ModelSpecTest, CnnLayoutAndSymmetryAcrossFlatten) {
  auto model = MustParse("cnn:c4-p-c6k5-p-d8", Shape{1, 12, 12}, 3);
  const ParamLayout& layout = model->layout();
  ASSERT_EQ(layout.num_tensors(), 8);
  EXPECT_EQ(layout.tensor(0).rows, 4);  // conv1: 4 × 1·3·3
  EXPECT_EQ(layout.tensor(0).cols, 9);
  EXPECT_EQ(layout.tensor(2).rows, 6);  // conv2: 6 × 4·5·5
  EXPECT_EQ(layout.tensor(2).cols, 100);
  EXPECT_EQ(layout.tensor(4).rows, 8);  // dense1: 8 × 6·3·3
  EXPECT_EQ(layout.tensor(4).cols, 54);
  EXPECT_EQ(layout.tensor(6).rows, 3);
  const SymmetrySpec& sym = model->symmetry();
  ASSERT_EQ(sym.groups.size(), 3u);
  EXPECT_EQ(sym.groups[0].name, "conv1");
  EXPECT_EQ(sym.groups[0].moves.back().block, 25);  // next conv's k·k columns
  EXPECT_EQ(sym.groups[1].moves.back().block, 9);   // H·W = 3·3 across the flatten
  EXPECT_EQ(sym.groups[2].moves.back().block, 1);
}

TEST(ModelSpecTest, ErrorsNameTheBadToken) {
  struct Case { std::string spec; std::string needle; };
  const Shape img{1, 28, 28};
  for (const Case& c : std::vector<Case>{
           {"mlp:784-x-10", "'x'"},
           {"mlp:780-10", "input size 784"},
           {"mlp:784-64-11", "class count 10"},
           {"mlp:784", "at least"},
           {"mlp:784--10", "''"},
           {"mlp:784-0-10", "'0'"},
           {"rnn:1-2", "unknown model kind 'rnn'"},
           {"mlp:", "expected"},
           {"cnn", "expected"},
           {"cnn:c8-q-d16", "'q'"},
           {"cnn:c8k4", "kernel size in 'c8k4'"},
           {"cnn:cx", "'cx'"},
           {"cnn:p-c8", "before any conv"},
           {"cnn:c8-d16-c8", "after a dense"},
           {"cnn:c8-p-p-p-p-p", "pool 'p' on a 1x1"},
           {"cnn:d16", "before any conv"},
           {"cnn:c8-dz", "'dz'"},
       }) {
    auto model = ParseModel(c.spec, img, 10);
    ASSERT_FALSE(model.ok()) << c.spec;
    EXPECT_EQ(model.status().code(), StatusCode::kInvalidInput);
    EXPECT_NE(model.status().message().find(c.needle), std::string::npos)
        << c.spec << " -> " << model.status().message();
  }
  auto flat = ParseModel("cnn:c8", Shape{1, 1, 20}, 4);
  ASSERT_FALSE(flat.ok());
  EXPECT_NE(flat.status().message().find("image input"), std::string::npos);
}

TEST(ModelTest, InitIsSeededKaiming) {
  auto model = MustParse("mlp:400-300-10", Shape{1, 1, 400}, 10);
  VectorXf a = model->InitParams(7);
  VectorXf b = model->InitParams(7);
  VectorXf c = model->InitParams(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const TensorSpec& w = model->layout().tensor(0);
  const auto weights = a.segment(w.offset, w.size());
  const double var = weights.squaredNorm() / static_cast<double>(weights.size());
  EXPECT_NEAR(var, 2.0 / 400, 0.1 * 2.0 / 400);
  const TensorSpec& bias = model->layout().tensor(1);
  EXPECT_TRUE(a.segment(bias.offset, bias.size()).isZero());
}

TEST(ModelTest, FingerprintDependsOnArchitecture) {
  auto a = MustParse("mlp:20-16-4", Shape{1, 1, 20}, 4);
  auto b = MustParse("mlp:20-16-4", Shape{1, 1, 20}, 4);
  auto c = MustParse("mlp:20-17-4", Shape{1, 1, 20}, 4);
  EXPECT_EQ(a->Fingerprint(), b->Fingerprint());
  EXPECT_NE(a->Fingerprint(), c->Fingerprint());
}

void CheckModelGradient(const std::string& spec, Shape shape, int classes, int batch) {
  auto model = MustParse(spec, shape, classes);
  std::mt19937_64 rng(21);
  VectorXf params = model->InitParams(3);
  // Non-zero biases so every bias path is exercised.
  params += RandomMatrix(params.size(), 1, rng, 0.05f);
  const MatrixXf x = RandomMatrix(shape.size(), batch, rng);
  std::vector<int32_t> y(static_cast<size_t>(batch));
  for (int i = 0; i < batch; ++i) y[static_cast<size_t>(i)] = i % classes;
  VectorXf grad;
  model->LossAndGradient(params, x, y, &grad);
  ASSERT_EQ(grad.size(), params.size());
  MatrixXf logits;
  auto f = [&] {
    VectorXf unused;
    return static_cast<double>(model->LossAndGradient(params, x, y, &unused));
  };
  ExpectGradientMatches(f, params.data(), params.size(), grad.data(), 1e-3, 1e-3, 3e-2);
}

TEST(ModelTest, MlpGradientMatchesFiniteDifferences) {
  CheckModelGradient("mlp:6-5-4-3", Shape{1, 1, 6}, 3, 4);
}

TEST(ModelTest, CnnGradientMatchesFiniteDifferences) {
  CheckModelGradient("cnn:c3-p-c4k1-d5", Shape{2, 6, 6}, 3, 2);
}

// Random permutation of every group; outputs must not change.
void CheckPermutationInvariance(const std::string& spec, Shape shape, int classes) {
  auto model = MustParse(spec, shape, classes);
  std::mt19937_64 rng(31);
  VectorXf params = model->InitParams(5) + RandomMatrix(model->num_params(), 1, rng, 0.1f);
  const MatrixXf x = RandomMatrix(shape.size(), 3, rng);
  MatrixXf before, after;
  model->Logits(params, x, &before);
  std::vector<MatrixXf> hidden_before = model->HiddenActivations(params, x);
  VectorXf permuted = params;
  std::vector<std::vector<int64_t>> perms;
  for (const HiddenGroup& group : model->symmetry().groups) {
    std::vector<int64_t> perm(static_cast<size_t>(group.units));
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), rng);
    ApplyPermutation(model->layout(), group, perm, &permuted);
    perms.push_back(perm);
  }
  EXPECT_GT((permuted - params).norm(), 0.1f);
  model->Logits(permuted, x, &after);
  EXPECT_LT((after - before).cwiseAbs().maxCoeff(), 1e-4f);
  // Hidden unit u of the permuted model is unit perm[u] of the original.
  std::vector<MatrixXf> hidden_after = model->HiddenActivations(permuted, x);
  ASSERT_EQ(hidden_after.size(), perms.size());
  for (size_t g = 0; g < perms.size(); ++g) {
    for (size_t u = 0; u < perms[g].size(); ++u) {
      EXPECT_LT((hidden_after[g].row(static_cast<int64_t>(u)) -
                 hidden_before[g].row(perms[g][u]))
                    .cwiseAbs()
                    .maxCoeff(),
                1e-4f);
    }
  }
}

TEST(SymmetryTest, MlpPermutationKeepsOutputs) {
  CheckPermutationInvariance("mlp:12-9-7-4", Shape{1, 1, 12}, 4);
}

TEST(SymmetryTest, CnnPermutationKeepsOutputsAcrossFlatten) {
  CheckPermutationInvariance("cnn:c5-p-c6k5-p-d7", Shape{2, 8, 8}, 3);
}

TEST(SymmetryTest, HiddenActivationShapes) {
  auto model = MustParse("cnn:c4-p-d6", Shape{1, 6, 6}, 2);
  const VectorXf params = model->InitParams(1);
  std::vector<MatrixXf> acts = model->HiddenActivations(params, MatrixXf::Ones(36, 3));
  ASSERT_EQ(acts.size(), 2u);
  EXPECT_EQ(acts[0].rows(), 4);
  EXPECT_EQ(acts[0].cols(), 3 * 36);  // every (image, h, w) position is a sample
  EXPECT_EQ(acts[1].rows(), 6);
  EXPECT_EQ(acts[1].cols(), 3);
  EXPECT_GE(acts[0].minCoeff(), 0.0f);  // post-ReLU
}

TEST(SymmetryTest, PreActivationsAreTheValuesBeforeTheRelu) {
  for (const auto& [spec, shape] : {std::pair{"cnn:c4-p-c3-p-d6", Shape{1, 8, 8}},
                                    std::pair{"mlp:64-9-7-2", Shape{1, 8, 8}}}) {
    auto model = MustParse(spec, shape, 2);
    const VectorXf params = model->InitParams(3);
    const MatrixXf x = MatrixXf::Random(64, 5);
    const std::vector<MatrixXf> post = model->HiddenActivations(params, x);
    const std::vector<MatrixXf> pre = model->HiddenPreActivations(params, x);
    ASSERT_EQ(pre.size(), post.size()) << spec;
    for (size_t g = 0; g < pre.size(); ++g) {
      ASSERT_EQ(pre[g].rows(), post[g].rows()) << spec << " group " << g;
      ASSERT_EQ(pre[g].cols(), post[g].cols()) << spec << " group " << g;
      EXPECT_EQ(pre[g].cwiseMax(0.0f), post[g]) << spec << " group " << g;
      EXPECT_LT(pre[g].minCoeff(), 0.0f) << spec << " group " << g;  // not the post-ReLU copy
    }
  }
}

TEST(SymmetryTest, ValidatePermutation) {
  EXPECT_TRUE(ValidatePermutation(std::vector<int64_t>{2, 0, 1}, 3).ok());
  EXPECT_FALSE(ValidatePermutation(std::vector<int64_t>{0, 0, 1}, 3).ok());
  EXPECT_FALSE(ValidatePermutation(std::vector<int64_t>{0, 1}, 3).ok());
  EXPECT_FALSE(ValidatePermutation(std::vector<int64_t>{0, 1, 3}, 3).ok());
}

}  // namespace
}  // namespace grapevine::learn
