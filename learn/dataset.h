// Dataset: labelled examples held in memory, one example per column.
//
// Two storages, one interface. Dense: `x` holds features × N floats, already normalised
// (CSV, synthetic, tests). Compact (IDX images): `codes` holds N × features bytes,
// example-major as in the file, and a feature's value is decode[byte] — the same float
// the dense form would hold, at a quarter of the memory (docs/memory.md). Readers go
// through CopyExample / Columns / Dense, which work on both; code that builds a dataset
// fills one storage and sets `compact` accordingly.
//
// A batch is a set of examples gathered into a features × batch matrix that feeds GEMM
// directly. Value type; not shared between threads unless const.
#pragma once

#include <Eigen/Core>
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace grapevine::learn {

// Shape of one example: channels × height × width (an MLP input is c=1, h=1, w=features).
struct Shape {
  int channels = 1;
  int height = 1;
  int width = 1;
  int size() const { return channels * height * width; }
  bool operator==(const Shape&) const = default;
};

struct Dataset {
  Eigen::MatrixXf x;            // dense: shape.size() × N, already normalised
  std::vector<uint8_t> codes;   // compact: N × shape.size() bytes, example-major
  std::array<float, 256> decode{};  // compact: the normalised value of each byte
  bool compact = false;
  std::vector<int32_t> y;       // N labels in [0, num_classes)
  int num_classes = 0;
  Shape shape;

  int64_t size() const { return static_cast<int64_t>(y.size()); }
  // Features per example: shape.size() when compact, else x.rows().
  int64_t features() const { return compact ? shape.size() : x.rows(); }
  // Writes example i's features() floats to dst. REQUIRES: 0 <= i < size().
  void CopyExample(int64_t i, float* dst) const;
  // Examples [start, start + n) as a features × n matrix: a view of x when dense, else
  // decoded into *scratch (resized as needed). Valid until x or *scratch changes.
  Eigen::Ref<const Eigen::MatrixXf> Columns(int64_t start, int64_t n,
                                            Eigen::MatrixXf* scratch) const;
  // All examples as floats (a copy): for callers that need a matrix, e.g. probes.
  Eigen::MatrixXf Dense() const;
  // The examples at `indices`, in that order, in the same storage.
  Dataset Subset(std::span<const int64_t> indices) const;
  // Bytes held by the examples and labels (what docs/memory.md counts as data).
  int64_t MemoryBytes() const;
};

// A training set and the test set every agent evaluates on.
struct DataSplit {
  std::string name;  // e.g. "fashion-mnist", "idx:/path", "csv:file", "synthetic"
  Dataset train;
  Dataset test;
};

}  // namespace grapevine::learn
