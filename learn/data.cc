#include "learn/data.h"

#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <numeric>
#include <vector>

#include "learn/csv.h"
#include "learn/data_source.h"

namespace grapevine::learn {
namespace {

constexpr int kFashionMnistClasses = 10;
constexpr int64_t kMaxSyntheticExamples = int64_t{1} << 26;
constexpr int kMaxSyntheticFeatures = 1 << 16;

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
  GV_ASSIGN_OR_RETURN(DataSource source, DataSource::OpenIdxDir(dir, num_classes, 0));
  std::vector<int64_t> all(static_cast<size_t>(source.train_size()));
  std::iota(all.begin(), all.end(), int64_t{0});
  DataSplit split;
  split.name = source.name();
  GV_ASSIGN_OR_RETURN(split.train, source.LoadTrain(all));
  split.test = source.test();
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
