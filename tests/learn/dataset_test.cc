// Dataset's compact storage (bytes + decode table) reads as the dense floats it stands
// for: CopyExample, Columns, Subset, Dense, and a Trainer on it takes bit-identical steps
// and evaluates identically to one on the dense copy.
#include <gtest/gtest.h>

#include <random>

#include "learn/dataset.h"
#include "learn/model.h"
#include "learn/trainer.h"

namespace grapevine::learn {
namespace {

Dataset CompactSet(int64_t n, Shape shape, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Dataset d;
  d.compact = true;
  d.shape = shape;
  d.num_classes = classes;
  for (int v = 0; v < 256; ++v) d.decode[static_cast<size_t>(v)] = (v - 60.5f) / 80.0f;
  d.codes.resize(static_cast<size_t>(n * shape.size()));
  for (auto& c : d.codes) c = static_cast<uint8_t>(rng() % 256);
  d.y.resize(static_cast<size_t>(n));
  for (auto& y : d.y) y = static_cast<int32_t>(rng() % static_cast<uint64_t>(classes));
  return d;
}

TEST(DatasetTest, CompactStorageReadsAsTheDenseFloats) {
  const Dataset d = CompactSet(9, Shape{1, 2, 3}, 4, 3);
  EXPECT_EQ(d.features(), 6);
  const Eigen::MatrixXf dense = d.Dense();
  ASSERT_EQ(dense.rows(), 6);
  ASSERT_EQ(dense.cols(), 9);
  for (int64_t i = 0; i < 9; ++i) {
    for (int64_t f = 0; f < 6; ++f) {
      EXPECT_EQ(dense(f, i), d.decode[d.codes[static_cast<size_t>(i * 6 + f)]]);
    }
  }
  Eigen::MatrixXf scratch;
  EXPECT_EQ(Eigen::MatrixXf(d.Columns(2, 4, &scratch)), dense.middleCols(2, 4));
  std::vector<float> one(6);
  d.CopyExample(8, one.data());
  EXPECT_EQ(Eigen::Map<Eigen::VectorXf>(one.data(), 6), dense.col(8));

  const std::vector<int64_t> idx = {7, 0, 3};
  const Dataset sub = d.Subset(idx);
  EXPECT_TRUE(sub.compact);
  EXPECT_EQ(sub.codes.size(), 18u);
  EXPECT_EQ(sub.MemoryBytes(), 3 * (6 + 4));
  EXPECT_EQ(sub.y, (std::vector<int32_t>{d.y[7], d.y[0], d.y[3]}));
  EXPECT_EQ(sub.Dense().col(0), dense.col(7));
  EXPECT_EQ(sub.Dense().col(2), dense.col(3));

  // The dense storage goes through the same calls.
  Dataset dense_set;
  dense_set.x = dense;
  dense_set.y = d.y;
  dense_set.shape = d.shape;
  dense_set.num_classes = 4;
  EXPECT_EQ(dense_set.features(), 6);
  EXPECT_EQ(dense_set.Subset(idx).x, sub.Dense());
  EXPECT_EQ(Eigen::MatrixXf(dense_set.Columns(1, 3, &scratch)), dense.middleCols(1, 3));
  EXPECT_EQ(dense_set.MemoryBytes(), 9 * (6 * 4 + 4));
}

TEST(DatasetTest, TrainerOnCompactDataStepsAndEvaluatesLikeOnDenseData) {
  const Shape shape{1, 4, 4};
  Dataset compact = CompactSet(300, shape, 3, 5);
  Dataset dense;
  dense.x = compact.Dense();
  dense.y = compact.y;
  dense.shape = shape;
  dense.num_classes = 3;
  for (const std::string order : {"rr", "grab"}) {
    TrainerOptions options;
    options.batch_size = 32;
    options.order = order;
    options.optimizer.momentum = 0.9f;
    options.grab_micro_batch = 8;
    auto a = Trainer::Create(ParseModel("mlp:16-12-3", shape, 3).value(), compact, options);
    auto b = Trainer::Create(ParseModel("mlp:16-12-3", shape, 3).value(), dense, options);
    ASSERT_TRUE(a.ok() && b.ok());
    for (int step = 0; step < 25; ++step) {  // crosses two epochs (10 steps each)
      ASSERT_EQ((*a)->Step(), (*b)->Step()) << order << " step " << step;
    }
    Eigen::VectorXf ga, gb;
    EXPECT_EQ((*a)->GradientOnSample((*a)->params(), &ga), (*b)->GradientOnSample((*b)->params(), &gb));
    EXPECT_EQ(ga, gb);
    EXPECT_EQ((*a)->params(), (*b)->params()) << order;
    const EvalResult ea = (*a)->Evaluate(compact), eb = (*b)->Evaluate(dense);
    EXPECT_EQ(ea.loss, eb.loss);
    EXPECT_EQ(ea.accuracy, eb.accuracy);
  }
  // A compact set whose bytes do not cover its labels is refused.
  compact.codes.pop_back();
  auto bad = Trainer::Create(ParseModel("mlp:16-12-3", shape, 3).value(), compact, TrainerOptions{});
  EXPECT_FALSE(bad.ok());
}

}  // namespace
}  // namespace grapevine::learn
