// Gradient checks for every layer and the loss: the analytic backward pass of
// L = Σ R ⊙ layer(x) (R a fixed random matrix) against central differences.
#include <gtest/gtest.h>

#include <Eigen/Core>
#include <random>

#include "learn/layers.h"
#include "learn/layers_conv.h"
#include "learn/loss.h"
#include "tests/learn/grad_check.h"

namespace grapevine::learn {
namespace {

using Eigen::MatrixXf;
using Eigen::VectorXf;
using testing::ExpectGradientMatches;
using testing::RandomMatrix;

// Checks d/dparams and d/dinput of Σ R ⊙ layer(params, x).
void CheckLayer(Layer& layer, VectorXf params, MatrixXf x, int64_t out_rows, int64_t out_cols,
                uint64_t seed) {
  std::mt19937_64 rng(seed);
  MatrixXf out;
  layer.Forward(params.data(), x, &out);
  ASSERT_EQ(out.rows(), out_rows);
  ASSERT_EQ(out.cols(), out_cols);
  const MatrixXf r = RandomMatrix(out_rows, out_cols, rng);
  MatrixXf dout = r;
  VectorXf grad = VectorXf::Constant(params.size(), 1e9f);  // must be overwritten
  MatrixXf din;
  layer.Backward(params.data(), x, out, &dout, grad.data(), &din);
  ASSERT_EQ(din.rows(), x.rows());
  ASSERT_EQ(din.cols(), x.cols());
  auto f = [&] {
    MatrixXf o;
    layer.Forward(params.data(), x, &o);
    return static_cast<double>(o.cwiseProduct(r).sum());
  };
  if (params.size() > 0) ExpectGradientMatches(f, params.data(), params.size(), grad.data());
  ExpectGradientMatches(f, x.data(), x.size(), din.data());
}

TEST(LayersTest, DenseGradient) {
  for (bool relu : {false, true}) {
    ParamLayout layout;
    const int w = layout.Add("w", 5, 7);
    const int b = layout.Add("b", 5, 1);
    DenseLayer layer(layout, w, b, relu);
    std::mt19937_64 rng(1);
    MatrixXf p = RandomMatrix(layout.size(), 1, rng, 0.5f);
    CheckLayer(layer, p, RandomMatrix(7, 4, rng), 5, 4, 2);
  }
}

TEST(LayersTest, DenseForwardValues) {
  ParamLayout layout;
  const int w = layout.Add("w", 2, 3);
  const int b = layout.Add("b", 2, 1);
  DenseLayer layer(layout, w, b, /*relu=*/true);
  // W = [[1,2,3],[-1,-2,-3]] column-major, b = [0.5, 0.25].
  VectorXf p(8);
  p << 1, -1, 2, -2, 3, -3, 0.5f, 0.25f;
  MatrixXf x(3, 1);
  x << 1, 1, 1;
  MatrixXf out;
  layer.Forward(p.data(), x, &out);
  EXPECT_FLOAT_EQ(out(0, 0), 6.5f);
  EXPECT_FLOAT_EQ(out(1, 0), 0.0f);  // -5.75 clamped by the ReLU
}

TEST(LayersTest, ReluGradient) {
  ReluLayer layer;
  std::mt19937_64 rng(3);
  MatrixXf x = RandomMatrix(6, 5, rng);
  // Keep inputs away from the kink at 0, where a central difference is meaningless.
  x = x.unaryExpr([](float v) { return v + (v >= 0 ? 0.1f : -0.1f); });
  CheckLayer(layer, VectorXf(), x, 6, 5, 4);
}

TEST(LayersTest, FlattenRoundTripAndOrder) {
  // 2 channels, 2×3 image, batch 2: image layout column b·6 + h·3 + w, row c.
  const int c = 2, h = 2, w = 3, batch = 2;
  MatrixXf img(c, batch * h * w);
  for (int b = 0; b < batch; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < h * w; ++p) img(ch, b * h * w + p) = 100 * b + 10 * ch + p;
  FlattenLayer flatten(c, h, w);
  MatrixXf flat;
  flatten.Forward(nullptr, img, &flat);
  ASSERT_EQ(flat.rows(), c * h * w);
  ASSERT_EQ(flat.cols(), batch);
  for (int b = 0; b < batch; ++b)
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < h * w; ++p) EXPECT_EQ(flat(ch * h * w + p, b), 100 * b + 10 * ch + p);
  UnflattenLayer unflatten(c, h, w);
  MatrixXf back;
  unflatten.Forward(nullptr, flat, &back);
  EXPECT_EQ(back, img);
  std::mt19937_64 rng(5);
  CheckLayer(flatten, VectorXf(), RandomMatrix(c, batch * h * w, rng), c * h * w, batch, 6);
  CheckLayer(unflatten, VectorXf(), RandomMatrix(c * h * w, batch, rng), c, batch * h * w, 7);
}

TEST(LayersTest, ConvGradient) {
  struct Case { int in_c, out_c, k, h, w, batch; bool relu; };
  for (const Case& cs : {Case{1, 3, 3, 5, 4, 2, false}, Case{3, 2, 3, 4, 4, 2, true},
                         Case{2, 2, 1, 3, 3, 1, false}, Case{2, 3, 5, 4, 5, 1, false}}) {
    ParamLayout layout;
    const int wi = layout.Add("w", cs.out_c, cs.in_c * cs.k * cs.k);
    const int bi = layout.Add("b", cs.out_c, 1);
    Conv2dLayer layer(layout, wi, bi, cs.in_c, cs.k, cs.h, cs.w, cs.relu);
    std::mt19937_64 rng(8);
    MatrixXf p = RandomMatrix(layout.size(), 1, rng, 0.5f);
    CheckLayer(layer, p, RandomMatrix(cs.in_c, cs.batch * cs.h * cs.w, rng), cs.out_c,
               cs.batch * cs.h * cs.w, 9);
  }
}

TEST(LayersTest, ConvMatchesDirectConvolution) {
  const int in_c = 2, out_c = 3, k = 3, h = 4, w = 5;
  ParamLayout layout;
  const int wi = layout.Add("w", out_c, in_c * k * k);
  const int bi = layout.Add("b", out_c, 1);
  Conv2dLayer layer(layout, wi, bi, in_c, k, h, w, false);
  std::mt19937_64 rng(10);
  MatrixXf p = RandomMatrix(layout.size(), 1, rng);
  MatrixXf x = RandomMatrix(in_c, h * w, rng);
  MatrixXf out;
  layer.Forward(p.data(), x, &out);
  auto weight = layout.View(wi, p.data());
  for (int o = 0; o < out_c; ++o) {
    for (int y = 0; y < h; ++y) {
      for (int xx = 0; xx < w; ++xx) {
        double sum = p(layout.tensor(bi).offset + o);
        for (int c = 0; c < in_c; ++c)
          for (int ki = 0; ki < k; ++ki)
            for (int kj = 0; kj < k; ++kj) {
              const int sy = y + ki - 1, sx = xx + kj - 1;
              if (sy < 0 || sy >= h || sx < 0 || sx >= w) continue;
              sum += weight(o, c * k * k + ki * k + kj) * x(c, sy * w + sx);
            }
        EXPECT_NEAR(out(o, y * w + xx), sum, 1e-4);
      }
    }
  }
}

TEST(LayersTest, MaxPoolGradientAndFloor) {
  // 5×5 input pools to 2×2 (last row and column dropped).
  MaxPool2dLayer layer(2, 5, 5);
  std::mt19937_64 rng(11);
  CheckLayer(layer, VectorXf(), RandomMatrix(2, 2 * 25, rng), 2, 2 * 4, 12);
  MatrixXf x(1, 16);
  for (int i = 0; i < 16; ++i) x(0, i) = static_cast<float>(i);
  MaxPool2dLayer pool(1, 4, 4);
  MatrixXf out;
  pool.Forward(nullptr, x, &out);
  ASSERT_EQ(out.cols(), 4);
  EXPECT_EQ(out(0, 0), 5);
  EXPECT_EQ(out(0, 1), 7);
  EXPECT_EQ(out(0, 2), 13);
  EXPECT_EQ(out(0, 3), 15);
}

TEST(LossTest, SoftmaxCrossEntropyValueAndGradient) {
  MatrixXf logits(3, 2);
  logits << 1, 0, 2, 0, 3, 0;
  std::vector<int32_t> y = {2, 1};
  MatrixXf d;
  const float loss = SoftmaxCrossEntropy(logits, y, &d);
  const double l0 = -std::log(std::exp(3.0) / (std::exp(1.0) + std::exp(2.0) + std::exp(3.0)));
  const double l1 = std::log(3.0);
  EXPECT_NEAR(loss, (l0 + l1) / 2, 1e-6);
  std::mt19937_64 rng(13);
  MatrixXf z = RandomMatrix(4, 5, rng, 3.0f);
  std::vector<int32_t> labels = {0, 3, 1, 1, 2};
  SoftmaxCrossEntropy(z, labels, &d);
  auto f = [&] { return static_cast<double>(SoftmaxCrossEntropy(z, labels, nullptr)); };
  ExpectGradientMatches(f, z.data(), z.size(), d.data(), 1e-2, 5e-4, 1e-2);
}

TEST(LossTest, StableForHugeLogits) {
  MatrixXf logits(2, 1);
  logits << 1e4f, -1e4f;
  std::vector<int32_t> y = {1};
  MatrixXf d;
  const float loss = SoftmaxCrossEntropy(logits, y, &d);
  EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NEAR(loss, 2e4f, 1.0f);
  EXPECT_NEAR(d(0, 0), 1.0f, 1e-6);
  EXPECT_NEAR(d(1, 0), -1.0f, 1e-6);
  EXPECT_EQ(CountCorrect(logits, std::vector<int32_t>{0}), 1);
}

}  // namespace
}  // namespace grapevine::learn
