// LoadData: spec parsing, the synthetic set, and Fashion-MNIST when it is installed.
#include <gtest/gtest.h>

#include <filesystem>

#include "learn/data.h"

namespace grapevine::learn {
namespace {

TEST(DataSpecTest, ParsesEveryKind) {
  auto fm = ParseDataSpec("fashion-mnist");
  ASSERT_TRUE(fm.ok());
  EXPECT_EQ(fm->kind, DataSpec::Kind::kFashionMnist);
  EXPECT_EQ(ParseDataSpec("")->kind, DataSpec::Kind::kFashionMnist);
  auto idx = ParseDataSpec("idx:/tmp/x");
  ASSERT_TRUE(idx.ok());
  EXPECT_EQ(idx->path, "/tmp/x");
  auto csv = ParseDataSpec("csv:a.csv,b.csv");
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(csv->path, "a.csv");
  EXPECT_EQ(csv->test_path, "b.csv");
  auto syn = ParseDataSpec("synthetic:400:7:3");
  ASSERT_TRUE(syn.ok());
  EXPECT_EQ(syn->synthetic.train, 400);
  EXPECT_EQ(syn->synthetic.test, 100);
  EXPECT_EQ(syn->synthetic.features, 7);
  EXPECT_EQ(syn->synthetic.classes, 3);
  auto syn_default = ParseDataSpec("synthetic");
  ASSERT_TRUE(syn_default.ok());
  EXPECT_EQ(syn_default->synthetic.train, 2000);
}

TEST(DataSpecTest, RejectsBadSpecs) {
  for (const char* bad :
       {"mnist", "idx:", "csv:", "csv:a,", "synthetic:", "synthetic:x", "synthetic:10:0",
        "synthetic:10:3:1", "synthetic:1:2:3:4", "synthetic:-5"}) {
    auto r = ParseDataSpec(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidInput) << bad;
    }
    EXPECT_FALSE(LoadData(bad, 1).ok()) << bad;
  }
}

TEST(SyntheticTest, DeterministicShapedAndLearnable) {
  auto a = LoadData("synthetic", 7);
  auto b = LoadData("synthetic", 7);
  auto c = LoadData("synthetic", 8);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->train.size(), 2000);
  EXPECT_EQ(a->test.size(), 500);
  EXPECT_EQ(a->train.x.rows(), 20);
  EXPECT_EQ(a->train.num_classes, 4);
  EXPECT_EQ(a->train.shape, (Shape{1, 1, 20}));
  EXPECT_EQ(a->train.x, b->train.x);
  EXPECT_EQ(a->test.y, b->test.y);
  EXPECT_NE(a->train.x, c->train.x);
  // Standardised per feature with train statistics.
  EXPECT_LT(a->train.x.rowwise().mean().cwiseAbs().maxCoeff(), 1e-4);
  // Learnable: a nearest-centroid classifier fit on train does well on test.
  Eigen::MatrixXf centroids = Eigen::MatrixXf::Zero(20, 4);
  Eigen::VectorXf counts = Eigen::VectorXf::Zero(4);
  for (int64_t i = 0; i < a->train.size(); ++i) {
    centroids.col(a->train.y[static_cast<size_t>(i)]) += a->train.x.col(i);
    counts(a->train.y[static_cast<size_t>(i)]) += 1;
  }
  for (int k = 0; k < 4; ++k) {
    ASSERT_GT(counts(k), 300) << "class " << k << " underrepresented";
    centroids.col(k) /= counts(k);
  }
  int correct = 0;
  for (int64_t i = 0; i < a->test.size(); ++i) {
    Eigen::Index best;
    (centroids.colwise() - a->test.x.col(i)).colwise().squaredNorm().minCoeff(&best);
    correct += best == a->test.y[static_cast<size_t>(i)];
  }
  const double accuracy = correct / 500.0;
  EXPECT_GT(accuracy, 0.75);
  EXPECT_LT(accuracy, 0.995);  // not trivially separable
}

TEST(FashionMnistTest, LoadsAndNormalises) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  auto split = LoadData("fashion-mnist", 1);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->name, "fashion-mnist");
  EXPECT_EQ(split->train.size(), 60000);
  EXPECT_EQ(split->test.size(), 10000);
  EXPECT_EQ(split->train.features(), 784);
  EXPECT_TRUE(split->train.compact);
  const Eigen::MatrixXf x = split->train.Dense();
  EXPECT_EQ(split->train.shape, (Shape{1, 28, 28}));
  EXPECT_EQ(split->train.num_classes, 10);
  // The first training and test images are ankle boots (class 9).
  EXPECT_EQ(split->train.y[0], 9);
  EXPECT_EQ(split->test.y[0], 9);
  // A black pixel maps to -mean/std with the published statistics 0.2860 / 0.3530.
  EXPECT_NEAR(x.minCoeff(), -0.2860 / 0.3530, 2e-3);
  EXPECT_NEAR(x.cast<double>().mean(), 0.0, 1e-4);
  std::vector<int> per_class(10, 0);
  for (int32_t y : split->train.y) ++per_class[static_cast<size_t>(y)];
  for (int k = 0; k < 10; ++k) EXPECT_EQ(per_class[static_cast<size_t>(k)], 6000);
}

}  // namespace
}  // namespace grapevine::learn
