// Dataset: labelled examples held in memory, one example per column.
//
// Column-major storage keeps each example contiguous, so a batch is a set of
// columns gathered into a features × batch matrix that feeds GEMM directly.
// Value type; not shared between threads unless const.
#pragma once

#include <Eigen/Core>
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
  Eigen::MatrixXf x;           // shape.size() × N, already normalised
  std::vector<int32_t> y;      // N labels in [0, num_classes)
  int num_classes = 0;
  Shape shape;

  int64_t size() const { return static_cast<int64_t>(y.size()); }
  // The examples at `indices`, in that order.
  Dataset Subset(std::span<const int64_t> indices) const;
};

// A training set and the test set every agent evaluates on.
struct DataSplit {
  std::string name;  // e.g. "fashion-mnist", "idx:/path", "csv:file", "synthetic"
  Dataset train;
  Dataset test;
};

}  // namespace grapevine::learn
