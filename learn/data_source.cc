#include "learn/data_source.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <memory>
#include <numeric>

#include "base/check.h"
#include "learn/data.h"
#include "learn/idx.h"

namespace grapevine::learn {
namespace {

constexpr int kFashionMnistClassCount = 10;

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// DIR/NAME.gz if present, else DIR/NAME; NotFound naming both if neither exists.
Result<std::string> FindIdxFile(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  if (IsRegularFile(base + ".gz")) return base + ".gz";
  if (IsRegularFile(base)) return base;
  return Status::NotFound(base + ".gz (or " + name + "): no such file");
}

// pixel/255, then (v − mean)/std with the training set's global statistics; the byte
// histogram gives exact statistics and a 256-entry table does the conversion.
std::array<float, 256> ImageNormalisation(const std::array<uint64_t, 256>& histogram) {
  double count = 0, sum = 0, sum_sq = 0;
  for (int v = 0; v < 256; ++v) {
    const double h = static_cast<double>(histogram[static_cast<size_t>(v)]);
    const double s = v / 255.0;
    count += h;
    sum += h * s;
    sum_sq += h * s * s;
  }
  const double mean = sum / count;
  double std = std::sqrt(std::max(0.0, sum_sq / count - mean * mean));
  if (std < 1e-6) std = 1.0;
  std::array<float, 256> table;
  for (int v = 0; v < 256; ++v) {
    table[static_cast<size_t>(v)] = static_cast<float>((v / 255.0 - mean) / std);
  }
  return table;
}

// Labels of an IDX labels file, each checked against num_classes when it is positive.
Result<std::vector<int32_t>> ReadLabels(const std::string& path, int num_classes) {
  GV_ASSIGN_OR_RETURN(IdxArray labels, ReadIdx(path, 1));
  std::vector<int32_t> out(labels.data.size());
  const size_t header_bytes = 8;
  for (size_t i = 0; i < labels.data.size(); ++i) {
    const int label = labels.data[i];
    if (num_classes > 0 && label >= num_classes) {
      return Status::Invalid(path + ": label " + std::to_string(label) + " of example " +
                             std::to_string(i) + " (byte " + std::to_string(header_bytes + i) +
                             ") is out of range [0, " + std::to_string(num_classes) + ")");
    }
    out[i] = label;
  }
  return out;
}

// Opens an images file and checks it against its labels' count.
Result<std::unique_ptr<IdxStream>> OpenImages(const std::string& path, size_t labels,
                                              const std::string& labels_path) {
  GV_ASSIGN_OR_RETURN(std::unique_ptr<IdxStream> images, IdxStream::Open(path, 3));
  const std::vector<uint32_t>& dims = images->dims();
  if (dims[0] != labels) {
    return Status::Invalid(path + " has " + std::to_string(dims[0]) + " images but " +
                           labels_path + " has " + std::to_string(labels) + " labels");
  }
  if (dims[1] > INT_MAX / dims[2]) {
    return Status::Invalid(path + ": image size " + std::to_string(dims[1]) + "x" +
                           std::to_string(dims[2]) + " is too large");
  }
  return images;
}

std::vector<int64_t> FirstN(int64_t n) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  std::iota(out.begin(), out.end(), int64_t{0});
  return out;
}

}  // namespace

Result<DataSource> DataSource::OpenIdxDir(const std::string& dir, int num_classes,
                                          int64_t test_limit) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound(dir + ": no such directory");
  }
  GV_ASSIGN_OR_RETURN(std::string train_images, FindIdxFile(dir, "train-images-idx3-ubyte"));
  GV_ASSIGN_OR_RETURN(std::string train_labels, FindIdxFile(dir, "train-labels-idx1-ubyte"));
  GV_ASSIGN_OR_RETURN(std::string test_images, FindIdxFile(dir, "t10k-images-idx3-ubyte"));
  GV_ASSIGN_OR_RETURN(std::string test_labels, FindIdxFile(dir, "t10k-labels-idx1-ubyte"));

  DataSource out;
  out.name_ = "idx:" + dir;
  out.idx_ = true;
  out.train_images_path_ = train_images;
  // Labels first: they decide the partition; the training pixels wait for LoadTrain.
  GV_ASSIGN_OR_RETURN(out.train_labels_, ReadLabels(train_labels, num_classes));
  GV_ASSIGN_OR_RETURN(auto train_stream,
                      OpenImages(train_images, out.train_labels_.size(), train_labels));
  const int rows = static_cast<int>(train_stream->dims()[1]);
  const int cols = static_cast<int>(train_stream->dims()[2]);
  train_stream.reset();

  GV_ASSIGN_OR_RETURN(out.test_.y, ReadLabels(test_labels, num_classes));
  GV_ASSIGN_OR_RETURN(auto test_stream, OpenImages(test_images, out.test_.y.size(), test_labels));
  if (static_cast<int>(test_stream->dims()[1]) != rows ||
      static_cast<int>(test_stream->dims()[2]) != cols) {
    return Status::Invalid(test_images + ": images are " + std::to_string(test_stream->dims()[1]) +
                           "x" + std::to_string(test_stream->dims()[2]) + " but " + train_images +
                           " has " + std::to_string(rows) + "x" + std::to_string(cols));
  }
  if (num_classes <= 0) {
    int max_label = 0;
    for (const auto* labels : {&out.train_labels_, &out.test_.y}) {
      for (int32_t y : *labels) max_label = std::max(max_label, static_cast<int>(y));
    }
    num_classes = max_label + 1;
  }
  out.num_classes_ = num_classes;
  out.shape_ = Shape{1, rows, cols};

  const int64_t test_n = static_cast<int64_t>(out.test_.y.size());
  const int64_t keep = test_limit > 0 ? std::min(test_limit, test_n) : test_n;
  const std::vector<int64_t> kept = FirstN(keep);
  GV_RETURN_IF_ERROR(ReadIdxRows(test_stream.get(), kept, &out.test_.codes, nullptr));
  out.test_.y.resize(static_cast<size_t>(keep));
  out.test_.compact = true;
  out.test_.shape = out.shape_;
  out.test_.num_classes = num_classes;
  return out;
}

Result<DataSource> DataSource::Open(const std::string& spec, uint64_t seed, int64_t test_limit) {
  GV_ASSIGN_OR_RETURN(DataSpec parsed, ParseDataSpec(spec));
  if (parsed.kind == DataSpec::Kind::kFashionMnist) {
    auto source = OpenIdxDir(parsed.path, kFashionMnistClassCount, test_limit);
    if (!source.ok() && source.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("Fashion-MNIST is not installed (" + source.status().message() +
                              "); install it with `apt-get install dataset-fashion-mnist`, "
                              "or pass --data idx:DIR");
    }
    if (source.ok()) source->name_ = "fashion-mnist";
    return source;
  }
  if (parsed.kind == DataSpec::Kind::kIdx) return OpenIdxDir(parsed.path, 0, test_limit);
  // CSV and synthetic: small enough to hold whole (docs/memory.md).
  GV_ASSIGN_OR_RETURN(DataSplit split, LoadData(spec, seed));
  DataSource out;
  out.name_ = split.name;
  out.shape_ = split.train.shape;
  out.num_classes_ = split.train.num_classes;
  out.train_labels_ = split.train.y;
  out.train_ = std::move(split.train);
  if (test_limit > 0 && test_limit < split.test.size()) {
    out.test_ = split.test.Subset(FirstN(test_limit));
  } else {
    out.test_ = std::move(split.test);
  }
  out.normalised_ = true;
  return out;
}

Result<Dataset> DataSource::LoadTrain(std::span<const int64_t> indices) {
  if (!idx_) return train_.Subset(indices);
  GV_ASSIGN_OR_RETURN(std::unique_ptr<IdxStream> images, IdxStream::Open(train_images_path_, 3));
  const std::vector<uint32_t>& dims = images->dims();
  if (dims[0] != train_labels_.size() || static_cast<int>(dims[1]) != shape_.height ||
      static_cast<int>(dims[2]) != shape_.width) {
    return Status::Invalid(train_images_path_ + ": changed while the agent ran (now " +
                           std::to_string(dims[0]) + " images of " + std::to_string(dims[1]) +
                           "x" + std::to_string(dims[2]) + ")");
  }
  std::array<uint64_t, 256> histogram{};
  Dataset out;
  GV_RETURN_IF_ERROR(ReadIdxRows(images.get(), indices, &out.codes, &histogram));
  out.compact = true;
  out.decode = ImageNormalisation(histogram);
  out.shape = shape_;
  out.num_classes = num_classes_;
  out.y.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    out.y[i] = train_labels_[static_cast<size_t>(indices[i])];
  }
  test_.decode = out.decode;
  normalised_ = true;
  return out;
}

const Dataset& DataSource::test() const {
  GV_CHECK_MSG(normalised_, "DataSource::test() before LoadTrain()");
  return test_;
}

}  // namespace grapevine::learn
