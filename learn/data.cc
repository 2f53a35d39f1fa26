#include "learn/data.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <vector>

#include "learn/csv.h"
#include "learn/idx.h"

namespace grapevine::learn {
namespace {

constexpr int kFashionMnistClasses = 10;
constexpr int64_t kMaxSyntheticExamples = int64_t{1} << 26;
constexpr int kMaxSyntheticFeatures = 1 << 16;

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// DIR/NAME.gz if present, else DIR/NAME; NotFound naming both if neither exists.
Result<std::string> FindIdxFile(const std::string& dir, const std::string& name) {
  const std::string base = dir + "/" + name;
  if (FileExists(base + ".gz")) return base + ".gz";
  if (FileExists(base)) return base;
  return Status::NotFound(base + ".gz (or " + name + "): no such file");
}

Result<int64_t> ParseCount(const std::string& spec, const std::string& text, int64_t lo,
                           int64_t hi) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || v < lo || v > hi) {
    return Status::Invalid("data spec '" + spec + "': '" + text + "' must be an integer in [" +
                           std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(v);
}

// pixel/255, then (v − mean)/std with the training set's global statistics; the byte
// histogram gives exact statistics and a 256-entry lookup table does the conversion.
void ImagesToDataset(const IdxImages& images, const std::array<float, 256>& table, int num_classes,
                     Dataset* out) {
  out->shape = Shape{1, images.rows, images.cols};
  out->num_classes = num_classes;
  out->y = images.labels;
  out->x.resize(out->shape.size(), images.size());
  float* dst = out->x.data();
  const uint8_t* src = images.pixels.data();
  for (size_t i = 0; i < images.pixels.size(); ++i) dst[i] = table[src[i]];
}

std::array<float, 256> ImageNormalisation(const IdxImages& train) {
  std::array<uint64_t, 256> histogram{};
  for (uint8_t p : train.pixels) ++histogram[p];
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

}  // namespace

void StandardizeFeatures(Dataset* train, Dataset* test) {
  GV_CHECK(train->x.rows() == test->x.rows());
  if (train->x.cols() == 0) return;
  const Eigen::ArrayXd mean = train->x.cast<double>().rowwise().mean().array();
  Eigen::ArrayXd var = Eigen::ArrayXd::Zero(mean.size());
  for (Eigen::Index i = 0; i < train->x.cols(); ++i) {
    var += (train->x.col(i).cast<double>().array() - mean).square();
  }
  var /= static_cast<double>(train->x.cols());
  const Eigen::ArrayXd std_dev = var.sqrt();
  const Eigen::ArrayXf scale = (std_dev < 1e-6).select(1.0, 1.0 / std_dev).cast<float>();
  const Eigen::ArrayXf shift = mean.cast<float>();
  for (Dataset* d : {train, test}) {
    d->x = ((d->x.array().colwise() - shift).colwise() * scale).matrix();
  }
}

Result<DataSpec> ParseDataSpec(const std::string& spec) {
  DataSpec out;
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const std::string arg = colon == std::string::npos ? "" : spec.substr(colon + 1);
  const bool has_arg = colon != std::string::npos;
  if (spec.empty() || spec == "fashion-mnist") {
    out.kind = DataSpec::Kind::kFashionMnist;
    out.path = kFashionMnistDir;
    return out;
  }
  if (kind == "idx" && !arg.empty()) {
    out.kind = DataSpec::Kind::kIdx;
    out.path = arg;
    return out;
  }
  if (kind == "csv" && !arg.empty()) {
    out.kind = DataSpec::Kind::kCsv;
    const size_t comma = arg.find(',');
    out.path = arg.substr(0, comma);
    if (comma != std::string::npos) out.test_path = arg.substr(comma + 1);
    if (out.path.empty() || (comma != std::string::npos && out.test_path.empty())) {
      return Status::Invalid("data spec '" + spec + "': expected csv:TRAIN or csv:TRAIN,TEST");
    }
    return out;
  }
  if (kind == "synthetic" && (!has_arg || !arg.empty())) {
    out.kind = DataSpec::Kind::kSynthetic;
    std::vector<std::string> parts;
    for (size_t start = 0; has_arg;) {
      const size_t next = arg.find(':', start);
      parts.push_back(arg.substr(start, next - start));
      if (next == std::string::npos) break;
      start = next + 1;
    }
    if (parts.size() > 3) {
      return Status::Invalid("data spec '" + spec + "': expected synthetic[:N[:D[:C]]]");
    }
    SyntheticOptions& o = out.synthetic;
    if (parts.size() > 0) {
      GV_ASSIGN_OR_RETURN(o.train, ParseCount(spec, parts[0], 2, kMaxSyntheticExamples));
      o.test = std::max<int64_t>(1, o.train / 4);
    }
    if (parts.size() > 1) {
      GV_ASSIGN_OR_RETURN(int64_t d, ParseCount(spec, parts[1], 1, kMaxSyntheticFeatures));
      o.features = static_cast<int>(d);
    }
    if (parts.size() > 2) {
      GV_ASSIGN_OR_RETURN(int64_t c, ParseCount(spec, parts[2], 2, 1000));
      o.classes = static_cast<int>(c);
    }
    return out;
  }
  return Status::Invalid("unknown data spec '" + spec +
                         "' (expected fashion-mnist, idx:DIR, csv:FILE[,TEST] or "
                         "synthetic[:N[:D[:C]]])");
}

Result<DataSplit> LoadIdxDir(const std::string& dir, int num_classes) {
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::NotFound(dir + ": no such directory");
  }
  GV_ASSIGN_OR_RETURN(std::string train_images, FindIdxFile(dir, "train-images-idx3-ubyte"));
  GV_ASSIGN_OR_RETURN(std::string train_labels, FindIdxFile(dir, "train-labels-idx1-ubyte"));
  GV_ASSIGN_OR_RETURN(std::string test_images, FindIdxFile(dir, "t10k-images-idx3-ubyte"));
  GV_ASSIGN_OR_RETURN(std::string test_labels, FindIdxFile(dir, "t10k-labels-idx1-ubyte"));
  GV_ASSIGN_OR_RETURN(IdxImages train, ReadIdxPair(train_images, train_labels, num_classes));
  GV_ASSIGN_OR_RETURN(IdxImages test, ReadIdxPair(test_images, test_labels, num_classes));
  if (train.rows != test.rows || train.cols != test.cols) {
    return Status::Invalid(test_images + ": images are " + std::to_string(test.rows) + "x" +
                           std::to_string(test.cols) + " but " + train_images + " has " +
                           std::to_string(train.rows) + "x" + std::to_string(train.cols));
  }
  if (num_classes <= 0) {
    int max_label = 0;
    for (const auto* set : {&train, &test}) {
      for (int32_t y : set->labels) max_label = std::max(max_label, static_cast<int>(y));
    }
    num_classes = max_label + 1;
  }
  const std::array<float, 256> table = ImageNormalisation(train);
  DataSplit split;
  split.name = "idx:" + dir;
  ImagesToDataset(train, table, num_classes, &split.train);
  ImagesToDataset(test, table, num_classes, &split.test);
  return split;
}

Result<DataSplit> LoadData(const std::string& spec, uint64_t seed) {
  GV_ASSIGN_OR_RETURN(DataSpec parsed, ParseDataSpec(spec));
  switch (parsed.kind) {
    case DataSpec::Kind::kFashionMnist: {
      auto split = LoadIdxDir(parsed.path, kFashionMnistClasses);
      if (!split.ok() && split.status().code() == StatusCode::kNotFound) {
        return Status::NotFound("Fashion-MNIST is not installed (" + split.status().message() +
                                "); install it with `apt-get install dataset-fashion-mnist`, "
                                "or pass --data idx:DIR");
      }
      if (split.ok()) split->name = "fashion-mnist";
      return split;
    }
    case DataSpec::Kind::kIdx: return LoadIdxDir(parsed.path, 0);
    case DataSpec::Kind::kCsv: return LoadCsv(parsed.path, parsed.test_path, seed);
    case DataSpec::Kind::kSynthetic: return MakeSynthetic(parsed.synthetic, seed);
  }
  return Status::Internal("unreachable data spec kind");
}

}  // namespace grapevine::learn
