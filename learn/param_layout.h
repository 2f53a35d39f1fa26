// ParamLayout: where each tensor of a model lives inside one flat parameter vector.
//
// Every model keeps all of its weights in one contiguous Eigen::VectorXf. A layout is
// the ordered list of named tensors with their offset and shape; layers read
// Eigen::Map views at those offsets. Gradients and optimizer state use the same
// layout and are addressed by offset, never by buffer address, so swapping or
// merging parameter vectors never invalidates anything.
//
// Conventions (merge/ and the symmetry description depend on them):
//  - Every tensor is column-major, rows × cols; a bias is rows × 1.
//  - Dense weight: rows = out features, cols = in features. Bias: out × 1.
//  - Conv2d weight: rows = out_channels, cols = in_channels·k·k; input channel c owns the
//    contiguous column block [c·k·k, (c+1)·k·k), laid out as (kernel row, kernel col)
//    with the kernel column fastest.
//  - Flatten of a C×H×W activation: feature index c·(H·W) + h·W + w, so channel c owns
//    the contiguous block of H·W input columns of the following dense layer.
//  - Model inputs are features × batch matrices (one column per example; image pixel
//    order c, h, w as above).
//
// Value type; immutable after construction in practice; safe to share when const.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <string>
#include <vector>

namespace grapevine::learn {

struct TensorSpec {
  std::string name;  // e.g. "dense1.weight"
  int64_t offset = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t size() const { return rows * cols; }
};

class ParamLayout {
 public:
  // Appends a rows × cols tensor after the last one; returns its index.
  int Add(std::string name, int64_t rows, int64_t cols);

  const std::vector<TensorSpec>& tensors() const { return tensors_; }
  const TensorSpec& tensor(int index) const { return tensors_[static_cast<size_t>(index)]; }
  int num_tensors() const { return static_cast<int>(tensors_.size()); }
  // Total number of scalars.
  int64_t size() const { return size_; }

  // Views of tensor `index` inside a flat vector of size() elements.
  Eigen::Map<Eigen::MatrixXf> View(int index, float* flat) const;
  Eigen::Map<const Eigen::MatrixXf> View(int index, const float* flat) const;

  bool operator==(const ParamLayout& other) const;

 private:
  std::vector<TensorSpec> tensors_;
  int64_t size_ = 0;
};

}  // namespace grapevine::learn
