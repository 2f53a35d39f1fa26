#include "learn/csv.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include "learn/data.h"
#include "learn/order.h"

namespace grapevine::learn {
namespace {

constexpr uint64_t kHoldoutStream = 0x686f6c64ull;  // "hold"

Result<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  }
  std::string content;
  char buf[1 << 16];
  size_t got;
  while ((got = std::fread(buf, 1, sizeof(buf), f)) > 0) content.append(buf, got);
  const bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return Status::IoError(path + ": read failed");
  return content;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool ParseFloat(std::string_view s, float* out) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size() && !s.empty() && std::isfinite(*out);
}

void SplitFields(std::string_view line, std::vector<std::string_view>* fields) {
  fields->clear();
  size_t start = 0;
  while (true) {
    const size_t comma = line.find(',', start);
    fields->push_back(Trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}

}  // namespace

Result<Dataset> ReadCsv(const std::string& path) {
  GV_ASSIGN_OR_RETURN(std::string content, ReadWholeFile(path));
  std::vector<float> values;
  std::vector<int32_t> labels;
  std::vector<std::string_view> fields;
  size_t expected_fields = 0;
  int64_t shape_line = 0;  // line that fixed the field count
  int max_label = -1;
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < content.size()) {
    size_t eol = content.find('\n', pos);
    if (eol == std::string::npos) eol = content.size();
    const std::string_view line = Trim(std::string_view(content).substr(pos, eol - pos));
    pos = eol + 1;
    ++line_no;
    if (line.empty()) continue;
    SplitFields(line, &fields);
    auto where = [&] { return path + ":" + std::to_string(line_no); };
    if (expected_fields == 0) {
      expected_fields = fields.size();
      shape_line = line_no;
      if (expected_fields < 2) {
        return Status::Invalid(where() + ": need a label and at least one feature, found " +
                               std::to_string(expected_fields) + " field");
      }
      float probe;
      if (!ParseFloat(fields[0], &probe)) continue;  // header line
    }
    if (fields.size() != expected_fields) {
      return Status::Invalid(where() + ": " + std::to_string(fields.size()) + " fields, expected " +
                             std::to_string(expected_fields) + " (as on line " +
                             std::to_string(shape_line) + ")");
    }
    float label;
    if (!ParseFloat(fields[0], &label) || label < 0 || label != std::floor(label) ||
        label >= kMaxCsvClasses) {
      return Status::Invalid(where() + ": column 1: label '" + std::string(fields[0]) +
                             "' is not an integer in [0, " + std::to_string(kMaxCsvClasses) + ")");
    }
    labels.push_back(static_cast<int32_t>(label));
    max_label = std::max(max_label, static_cast<int>(label));
    for (size_t c = 1; c < fields.size(); ++c) {
      float v;
      if (!ParseFloat(fields[c], &v)) {
        return Status::Invalid(where() + ": column " + std::to_string(c + 1) + ": '" +
                               std::string(fields[c]) + "' is not a finite number");
      }
      values.push_back(v);
    }
  }
  if (labels.empty()) return Status::Invalid(path + ": no data rows");
  Dataset out;
  const int features = static_cast<int>(expected_fields - 1);
  out.shape = Shape{1, 1, features};
  out.num_classes = max_label + 1;
  out.y = std::move(labels);
  out.x = Eigen::Map<const Eigen::MatrixXf>(values.data(), features, out.size());
  return out;
}

Result<DataSplit> LoadCsv(const std::string& train_path, const std::string& test_path,
                          uint64_t seed) {
  DataSplit split;
  GV_ASSIGN_OR_RETURN(split.train, ReadCsv(train_path));
  if (!test_path.empty()) {
    GV_ASSIGN_OR_RETURN(split.test, ReadCsv(test_path));
    if (split.test.shape != split.train.shape) {
      return Status::Invalid(test_path + ": " + std::to_string(split.test.shape.size()) +
                             " features, but " + train_path + " has " +
                             std::to_string(split.train.shape.size()));
    }
    split.name = "csv:" + train_path + "," + test_path;
  } else {
    const int64_t n = split.train.size();
    if (n < 2) {
      return Status::Invalid(train_path + ": need at least 2 rows to hold out a test set");
    }
    const int64_t n_test = std::max<int64_t>(1, (n + 3) / 7);
    std::vector<int64_t> perm = SeededPermutation(n, MixSeed(seed, kHoldoutStream));
    std::sort(perm.begin(), perm.begin() + n_test);
    std::sort(perm.begin() + n_test, perm.end());
    Dataset all = std::move(split.train);
    split.test = all.Subset(std::span<const int64_t>(perm).first(static_cast<size_t>(n_test)));
    split.train = all.Subset(std::span<const int64_t>(perm).subspan(static_cast<size_t>(n_test)));
    split.name = "csv:" + train_path;
  }
  const int classes = std::max(split.train.num_classes, split.test.num_classes);
  split.train.num_classes = split.test.num_classes = classes;
  StandardizeFeatures(&split.train, &split.test);
  return split;
}

}  // namespace grapevine::learn
