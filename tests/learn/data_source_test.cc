// DataSource: an agent's shard loaded from the IDX files without the rest must be exactly
// what LoadData + Subset gave before (same labels, so the same partition for every kind
// and seed; same pixels; same normalised floats), the test set cut to --eval-samples, bad
// files named, and the CSV/synthetic kinds unchanged.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>

#include "learn/data.h"
#include "learn/data_source.h"
#include "learn/idx.h"
#include "learn/partition.h"

namespace grapevine::learn {
namespace {

namespace fs = std::filesystem;

// Today's normalisation, written out again (LoadData before the shard loader): a byte
// histogram of every training pixel, the mean and population std of pixel/255 summed
// over the 256 bins in order, then (v/255 − mean)/std as float (docs/data.md).
std::array<float, 256> ReferenceTable(const std::vector<uint8_t>& pixels) {
  std::array<uint64_t, 256> histogram{};
  for (uint8_t p : pixels) ++histogram[p];
  double count = 0, sum = 0, sum_sq = 0;
  for (int v = 0; v < 256; ++v) {
    const double h = static_cast<double>(histogram[static_cast<size_t>(v)]);
    const double s = v / 255.0;
    count += h;
    sum += h * s;
    sum_sq += h * s * s;
  }
  const double mean = sum / count;
  const double std = std::sqrt(std::max(0.0, sum_sq / count - mean * mean));
  std::array<float, 256> table;
  for (int v = 0; v < 256; ++v) table[static_cast<size_t>(v)] = static_cast<float>((v / 255.0 - mean) / std);
  return table;
}

// Checks one shard against the raw files: labels, bytes and floats.
void ExpectShardMatchesRaw(const Dataset& shard, std::span<const int64_t> indices,
                           const IdxImages& raw) {
  const std::array<float, 256> table = ReferenceTable(raw.pixels);
  const int64_t f = int64_t{raw.rows} * raw.cols;
  ASSERT_EQ(shard.size(), static_cast<int64_t>(indices.size()));
  ASSERT_TRUE(shard.compact);
  std::vector<float> example(static_cast<size_t>(f));
  for (size_t i = 0; i < indices.size(); ++i) {
    const int64_t k = indices[i];
    ASSERT_EQ(shard.y[i], raw.labels[static_cast<size_t>(k)]) << "example " << k;
    shard.CopyExample(static_cast<int64_t>(i), example.data());
    for (int64_t j = 0; j < f; ++j) {
      const uint8_t byte = raw.pixels[static_cast<size_t>(k * f + j)];
      ASSERT_EQ(shard.codes[static_cast<size_t>(static_cast<int64_t>(i) * f + j)], byte);
      ASSERT_EQ(example[static_cast<size_t>(j)], table[byte]) << "example " << k << " pixel " << j;
    }
  }
}

class DataSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("data_source_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // n training and m test images of 5×4 with skewed pixels and `classes` labels.
  void WriteSet(uint32_t n, uint32_t m, int classes, bool gzip) {
    std::mt19937_64 rng(11);
    auto pixels = [&](uint32_t count) {
      std::vector<uint8_t> v(count * 20);
      for (auto& p : v) p = static_cast<uint8_t>(rng() % 7 == 0 ? rng() % 256 : 0);
      return v;
    };
    auto labels = [&](uint32_t count) {
      std::vector<uint8_t> v(count);
      for (auto& y : v) y = static_cast<uint8_t>(rng() % static_cast<uint64_t>(classes));
      return v;
    };
    const std::string ext = gzip ? ".gz" : "";
    ASSERT_TRUE(WriteIdx(Path("train-images-idx3-ubyte" + ext), {n, 5, 4}, pixels(n), gzip).ok());
    ASSERT_TRUE(WriteIdx(Path("train-labels-idx1-ubyte" + ext), {n}, labels(n), gzip).ok());
    ASSERT_TRUE(WriteIdx(Path("t10k-images-idx3-ubyte" + ext), {m, 5, 4}, pixels(m), gzip).ok());
    ASSERT_TRUE(WriteIdx(Path("t10k-labels-idx1-ubyte" + ext), {m}, labels(m), gzip).ok());
  }

  fs::path dir_;
};

TEST_F(DataSourceTest, ShardsAreExactlyThoseOfTheFullLoadForEveryPartitionKindAndSeed) {
  WriteSet(600, 50, 10, /*gzip=*/true);
  auto raw = ReadIdxPair(Path("train-images-idx3-ubyte.gz"), Path("train-labels-idx1-ubyte.gz"), 0);
  ASSERT_TRUE(raw.ok());
  auto full = LoadData("idx:" + dir_.string(), 1);
  ASSERT_TRUE(full.ok()) << full.status().ToString();
  const int nodes = 4;
  for (const std::string kind : {"iid", "dirichlet:0.5", "classes", "classes:3", "shards"}) {
    for (uint64_t seed : {1u, 7u}) {
      auto source = DataSource::Open("idx:" + dir_.string(), seed);
      ASSERT_TRUE(source.ok()) << source.status().ToString();
      ASSERT_EQ(std::vector<int32_t>(source->train_labels().begin(), source->train_labels().end()),
                raw->labels);
      EXPECT_EQ(source->num_classes(), 10);
      const PartitionSpec spec = ParsePartition(kind).value();
      auto reference = PartitionAll(raw->labels, 10, spec, nodes, seed);
      auto shards = PartitionAll(source->train_labels(), source->num_classes(), spec, nodes, seed);
      ASSERT_TRUE(reference.ok() && shards.ok()) << kind;
      ASSERT_EQ(*shards, *reference) << kind << " seed " << seed;
      for (int node = 0; node < nodes; ++node) {
        SCOPED_TRACE(kind + " seed " + std::to_string(seed) + " node " + std::to_string(node));
        const std::vector<int64_t>& idx = (*shards)[static_cast<size_t>(node)];
        auto shard = source->LoadTrain(idx);
        ASSERT_TRUE(shard.ok()) << shard.status().ToString();
        ExpectShardMatchesRaw(*shard, idx, *raw);
        // And the same floats as the full load's Subset.
        EXPECT_EQ(shard->Dense(), full->train.Subset(idx).Dense());
      }
    }
  }
}

TEST_F(DataSourceTest, TestSetIsCutToTheEvaluationSamplesAndUsesTrainingStatistics) {
  WriteSet(100, 40, 3, /*gzip=*/false);
  auto full = LoadData("idx:" + dir_.string(), 1);
  ASSERT_TRUE(full.ok());
  for (int64_t limit : {0, 7, 40, 1000}) {
    auto source = DataSource::Open("idx:" + dir_.string(), 1, limit);
    ASSERT_TRUE(source.ok()) << source.status().ToString();
    const std::vector<int64_t> some = {3, 50, 99};
    ASSERT_TRUE(source->LoadTrain(some).ok());
    const int64_t expect = limit == 0 || limit > 40 ? 40 : limit;
    const Dataset& test = source->test();
    ASSERT_EQ(test.size(), expect) << limit;
    EXPECT_TRUE(test.compact);
    EXPECT_EQ(static_cast<int64_t>(test.codes.size()), expect * 20);
    std::vector<int64_t> first(static_cast<size_t>(expect));
    std::iota(first.begin(), first.end(), int64_t{0});
    EXPECT_EQ(test.Dense(), full->test.Subset(first).Dense()) << limit;
    EXPECT_EQ(test.y, full->test.Subset(first).y);
  }
}

TEST_F(DataSourceTest, TruncatedTrainingImagesFailWhenTheShardIsReadNamingTheFile) {
  WriteSet(60, 10, 3, /*gzip=*/false);
  const std::string images = Path("train-images-idx3-ubyte");
  fs::resize_file(images, 16 + 59 * 20 + 3);  // the last image is cut short
  auto source = DataSource::Open("idx:" + dir_.string(), 1);
  ASSERT_TRUE(source.ok()) << source.status().ToString();  // only the header is read here
  // Even a shard whose rows all precede the cut fails: the whole file is checked.
  const std::vector<int64_t> early = {0, 1, 2};
  auto shard = source->LoadTrain(early);
  ASSERT_FALSE(shard.ok());
  EXPECT_EQ(shard.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(shard.status().message().find(images + ": truncated at byte " +
                                          std::to_string(16 + 59 * 20 + 3)),
            std::string::npos)
      << shard.status().message();
}

TEST_F(DataSourceTest, MismatchedCountsAndBadLabelsFailAtOpen) {
  WriteSet(30, 10, 3, /*gzip=*/false);
  ASSERT_TRUE(WriteIdx(Path("train-labels-idx1-ubyte"), {29}, std::vector<uint8_t>(29, 1), false).ok());
  auto counts = DataSource::Open("idx:" + dir_.string(), 1);
  ASSERT_FALSE(counts.ok());
  EXPECT_NE(counts.status().message().find("has 30 images but"), std::string::npos)
      << counts.status().message();

  std::vector<uint8_t> labels(30, 1);
  labels[4] = 200;
  ASSERT_TRUE(WriteIdx(Path("train-labels-idx1-ubyte"), {30}, labels, false).ok());
  // idx: infers the class count; a wrong label only fails against a fixed count.
  ASSERT_TRUE(DataSource::Open("idx:" + dir_.string(), 1).ok());
  auto fixed = DataSource::OpenIdxDir(dir_.string(), 10, 0);
  ASSERT_FALSE(fixed.ok());
  EXPECT_NE(fixed.status().message().find("label 200 of example 4 (byte 12) is out of range [0, 10)"),
            std::string::npos)
      << fixed.status().message();
}

TEST(DataSourceDenseTest, SyntheticAndCsvKindsAreSubsetsOfTheFullLoad) {
  auto full = LoadData("synthetic:400:6:3", 5);
  auto source = DataSource::Open("synthetic:400:6:3", 5, 30);
  ASSERT_TRUE(full.ok() && source.ok());
  EXPECT_EQ(source->shape(), full->train.shape);
  EXPECT_EQ(source->num_classes(), 3);
  EXPECT_EQ(std::vector<int32_t>(source->train_labels().begin(), source->train_labels().end()),
            full->train.y);
  const std::vector<int64_t> idx = {0, 17, 399};
  auto shard = source->LoadTrain(idx);
  ASSERT_TRUE(shard.ok());
  EXPECT_FALSE(shard->compact);
  EXPECT_EQ(shard->x, full->train.Subset(idx).x);
  EXPECT_EQ(source->test().size(), 30);
  EXPECT_EQ(source->test().x, full->test.x.leftCols(30));
  EXPECT_FALSE(DataSource::Open("csv:" + std::string(::testing::TempDir()) + "/none.csv", 1).ok());
}

TEST(DataSourceFashionMnistTest, AShardIsTheFullLoadsSubsetAndTheTestSetIsCut) {
  const std::string dir = kFashionMnistDir;
  if (!fs::exists(dir + "/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  }
  auto raw = ReadIdxPair(dir + "/train-images-idx3-ubyte.gz", dir + "/train-labels-idx1-ubyte.gz", 10);
  ASSERT_TRUE(raw.ok());
  auto source = DataSource::Open("fashion-mnist", 1, 500);
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ(source->name(), "fashion-mnist");
  EXPECT_EQ(source->train_size(), 60000);
  auto shards = PartitionAll(source->train_labels(), 10, ParsePartition("iid").value(), 16, 1);
  auto reference = PartitionAll(raw->labels, 10, ParsePartition("iid").value(), 16, 1);
  ASSERT_TRUE(shards.ok() && reference.ok());
  ASSERT_EQ(*shards, *reference);
  const std::vector<int64_t>& idx = (*shards)[5];
  auto shard = source->LoadTrain(idx);
  ASSERT_TRUE(shard.ok());
  ExpectShardMatchesRaw(*shard, idx, *raw);
  EXPECT_EQ(shard->MemoryBytes(), static_cast<int64_t>(idx.size()) * (784 + 4));
  // A black pixel: −mean/std with the published statistics 0.2860 / 0.3530.
  EXPECT_NEAR(shard->decode[0], -0.2860 / 0.3530, 2e-3);
  EXPECT_EQ(source->test().size(), 500);
  EXPECT_EQ(source->test().y[0], 9);  // the first test image is an ankle boot
}

}  // namespace
}  // namespace grapevine::learn
