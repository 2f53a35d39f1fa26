// IDX reader: round trips, malformed headers, truncation, count/label checks, LoadIdxDir.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "learn/data.h"
#include "learn/idx.h"

namespace grapevine::learn {
namespace {

namespace fs = std::filesystem;

class IdxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           ("idx_test_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  static std::vector<uint8_t> Bytes(size_t n, int salt) {
    std::vector<uint8_t> v(n);
    for (size_t i = 0; i < n; ++i)
      v[i] = static_cast<uint8_t>((i * 37 + static_cast<size_t>(salt)) % 256);
    return v;
  }
  static std::vector<uint8_t> ReadRaw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
  }
  static void WriteRaw(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
  }

  fs::path dir_;
};

TEST_F(IdxTest, RoundTripPlainAndGzip) {
  const std::vector<uint32_t> dims = {5, 3, 4};
  const std::vector<uint8_t> data = Bytes(60, 1);
  for (bool gzip : {false, true}) {
    const std::string path = Path(gzip ? "a.gz" : "a");
    ASSERT_TRUE(WriteIdx(path, dims, data, gzip).ok());
    const std::vector<uint8_t> raw = ReadRaw(path);
    ASSERT_GE(raw.size(), 4u);
    if (gzip) {
      EXPECT_EQ(raw[0], 0x1f);
      EXPECT_EQ(raw[1], 0x8b);
    } else {
      EXPECT_EQ(raw.size(), 16u + 60u);
      EXPECT_EQ(raw[2], 0x08);
      EXPECT_EQ(raw[3], 0x03);
    }
    auto read = ReadIdx(path, 3);
    ASSERT_TRUE(read.ok()) << read.status().ToString();
    EXPECT_EQ(read->dims, dims);
    EXPECT_EQ(read->data, data);
  }
}

TEST_F(IdxTest, MissingFileIsNotFound) {
  auto read = ReadIdx(Path("nope.gz"), 1);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kNotFound);
  EXPECT_NE(read.status().message().find("nope.gz"), std::string::npos);
}

TEST_F(IdxTest, WrongMagicIsRejected) {
  const std::string labels = Path("labels-idx1-ubyte");
  ASSERT_TRUE(WriteIdx(labels, {4}, Bytes(4, 0), false).ok());
  auto as_images = ReadIdx(labels, 3);
  ASSERT_FALSE(as_images.ok());
  EXPECT_EQ(as_images.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(as_images.status().message().find("labels-idx1-ubyte: bad magic 0x00000801 at byte 0"),
            std::string::npos)
      << as_images.status().message();

  const std::string text = Path("not-idx");
  WriteRaw(text, {'P', 'K', 3, 4, 0, 0, 0, 1, 7});
  auto garbage = ReadIdx(text, 1);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("not an IDX file"), std::string::npos);

  std::vector<uint8_t> float_type = {0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0};
  WriteRaw(Path("floats"), float_type);
  auto floats = ReadIdx(Path("floats"), 1);
  ASSERT_FALSE(floats.ok());
  EXPECT_NE(floats.status().message().find("not unsigned byte"), std::string::npos);
}

TEST_F(IdxTest, TruncatedPayloadNamesFileAndByteOffset) {
  const std::string path = Path("train-images-idx3-ubyte");
  ASSERT_TRUE(WriteIdx(path, {10, 2, 3}, Bytes(60, 2), false).ok());
  std::vector<uint8_t> raw = ReadRaw(path);
  raw.resize(16 + 25);
  WriteRaw(path, raw);
  auto read = ReadIdx(path, 3);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(read.status().message().find(
                "train-images-idx3-ubyte: truncated at byte 41: expected 60 bytes of pixels"),
            std::string::npos)
      << read.status().message();

  raw.resize(10);  // inside the dimensions
  WriteRaw(path, raw);
  read = ReadIdx(path, 3);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("truncated at byte 10"), std::string::npos)
      << read.status().message();
}

TEST_F(IdxTest, TruncatedGzipIsRejected) {
  const std::string path = Path("t.gz");
  ASSERT_TRUE(WriteIdx(path, {200, 10, 10}, Bytes(20000, 3), true).ok());
  std::vector<uint8_t> raw = ReadRaw(path);
  raw.resize(raw.size() / 2);
  WriteRaw(path, raw);
  auto read = ReadIdx(path, 3);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(read.status().message().find("t.gz"), std::string::npos);
  EXPECT_NE(read.status().message().find("byte"), std::string::npos);
  // zlib reports a cut stream as a short read: offsets count decompressed bytes.
  if (read.status().message().find("truncated") != std::string::npos) {
    EXPECT_NE(read.status().message().find("(decompressed)"), std::string::npos)
        << read.status().message();
  }
}

TEST_F(IdxTest, TrailingBytesAndZeroDimensionsAreRejected) {
  const std::string path = Path("l");
  ASSERT_TRUE(WriteIdx(path, {3}, Bytes(3, 0), false).ok());
  std::vector<uint8_t> raw = ReadRaw(path);
  raw.push_back(9);
  WriteRaw(path, raw);
  auto read = ReadIdx(path, 1);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("trailing data at byte 11"), std::string::npos)
      << read.status().message();

  WriteRaw(path, {0, 0, 8, 1, 0, 0, 0, 0});
  read = ReadIdx(path, 1);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("is zero"), std::string::npos);

  WriteRaw(path, {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 9});
  read = ReadIdx(path, 3);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("corrupt header"), std::string::npos);
}

TEST_F(IdxTest, HugeClaimedSizeFailsAsTruncationWithoutAllocatingIt) {
  // 40000 × 512 × 512 bytes (~10 GiB) claimed by a 20-byte file.
  WriteRaw(Path("huge"), {0, 0, 8, 3, 0, 0, 0x9c, 0x40, 0, 0, 2, 0, 0, 0, 2, 0, 1, 2, 3, 4});
  auto read = ReadIdx(Path("huge"), 3);
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("truncated at byte 20: expected 10485760000 bytes"),
            std::string::npos)
      << read.status().message();
}

// Random corruptions of a valid file (byte flips, cuts, both compressed and plain) must
// come back as values: either the exact original array or an error, never a crash.
TEST_F(IdxTest, MutatedFilesAreRejectedOrReadExactly) {
  const std::vector<uint8_t> data = Bytes(2 * 3 * 5, 4);
  for (bool gzip : {false, true}) {
    const std::string good = Path(gzip ? "good.gz" : "good");
    ASSERT_TRUE(WriteIdx(good, {2, 3, 5}, data, gzip).ok());
    const std::vector<uint8_t> original = ReadRaw(good);
    std::mt19937_64 rng(gzip ? 17 : 18);
    for (int trial = 0; trial < 120; ++trial) {
      std::vector<uint8_t> bytes = original;
      if (trial % 3 == 0) {
        bytes.resize(rng() % bytes.size());
      } else {
        for (int flips = 1 + static_cast<int>(rng() % 3); flips > 0; --flips) {
          bytes[rng() % bytes.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
        }
      }
      WriteRaw(Path("mutant"), bytes);
      auto read = ReadIdx(Path("mutant"), 3);
      if (read.ok()) {
        EXPECT_EQ(read->dims.size(), 3u);
        uint64_t product = 1;
        for (uint32_t d : read->dims) product *= d;
        EXPECT_EQ(product, read->data.size());
      } else {
        EXPECT_NE(read.status().message().find("mutant"), std::string::npos);
      }
    }
  }
}

TEST_F(IdxTest, PairChecksCountsAndLabelRange) {
  ASSERT_TRUE(WriteIdx(Path("img"), {3, 2, 2}, Bytes(12, 0), false).ok());
  ASSERT_TRUE(WriteIdx(Path("lab2"), {2}, {0, 1}, false).ok());
  auto mismatch = ReadIdxPair(Path("img"), Path("lab2"), 10);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.status().message().find("has 3 images but"), std::string::npos);
  EXPECT_NE(mismatch.status().message().find("has 2 labels"), std::string::npos);

  ASSERT_TRUE(WriteIdx(Path("lab3"), {3}, {0, 12, 1}, false).ok());
  auto range = ReadIdxPair(Path("img"), Path("lab3"), 10);
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("label 12 of example 1 (byte 9) is out of range"),
            std::string::npos)
      << range.status().message();

  auto inferred = ReadIdxPair(Path("img"), Path("lab3"), 0);
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ(inferred->labels, (std::vector<int32_t>{0, 12, 1}));
  EXPECT_EQ(inferred->rows, 2);
}

TEST_F(IdxTest, LoadDataFromIdxDirectoryNormalisesWithTrainStatistics) {
  // Training set in .gz files, test set uncompressed: both naming styles are accepted.
  const std::vector<uint8_t> train_px = Bytes(6 * 4 * 3, 5);
  ASSERT_TRUE(WriteIdx(Path("train-images-idx3-ubyte.gz"), {6, 4, 3}, train_px, true).ok());
  ASSERT_TRUE(WriteIdx(Path("train-labels-idx1-ubyte.gz"), {6}, {0, 1, 2, 0, 1, 2}, true).ok());
  ASSERT_TRUE(WriteIdx(Path("t10k-images-idx3-ubyte"), {2, 4, 3}, Bytes(24, 9), false).ok());
  ASSERT_TRUE(WriteIdx(Path("t10k-labels-idx1-ubyte"), {2}, {3, 0}, false).ok());

  auto split = LoadData("idx:" + dir_.string(), 1);
  ASSERT_TRUE(split.ok()) << split.status().ToString();
  EXPECT_EQ(split->train.size(), 6);
  EXPECT_EQ(split->test.size(), 2);
  EXPECT_EQ(split->train.num_classes, 4);  // max label over train and test + 1
  EXPECT_EQ(split->train.shape, (Shape{1, 4, 3}));
  EXPECT_TRUE(split->train.compact);  // one byte per pixel, decoded through the table
  EXPECT_EQ(split->train.features(), 12);
  EXPECT_EQ(split->train.codes, train_px);
  const Eigen::MatrixXf x = split->train.Dense();
  EXPECT_EQ(x.rows(), 12);
  EXPECT_NEAR(x.mean(), 0.0, 1e-5);
  const double var = (x.array() - x.mean()).square().mean();
  EXPECT_NEAR(var, 1.0, 1e-4);
  // Pixel order: example-major IDX bytes are the columns of x.
  const float a = x(0, 0), b = x(1, 0);
  EXPECT_EQ(train_px[0] < train_px[1], a < b);
  EXPECT_EQ(split->test.y, (std::vector<int32_t>{3, 0}));

  auto missing = LoadData("idx:" + Path("nowhere"), 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  fs::remove(Path("t10k-labels-idx1-ubyte"));
  auto missing_file = LoadData("idx:" + dir_.string(), 1);
  ASSERT_FALSE(missing_file.ok());
  EXPECT_EQ(missing_file.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing_file.status().message().find("t10k-labels-idx1-ubyte"), std::string::npos);
}

}  // namespace
}  // namespace grapevine::learn
