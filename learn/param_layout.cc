#include "learn/param_layout.h"

#include "base/check.h"

namespace grapevine::learn {

int ParamLayout::Add(std::string name, int64_t rows, int64_t cols) {
  GV_CHECK(rows > 0 && cols > 0);
  tensors_.push_back(TensorSpec{std::move(name), size_, rows, cols});
  size_ += rows * cols;
  return static_cast<int>(tensors_.size()) - 1;
}

Eigen::Map<Eigen::MatrixXf> ParamLayout::View(int index, float* flat) const {
  const TensorSpec& t = tensor(index);
  return Eigen::Map<Eigen::MatrixXf>(flat + t.offset, t.rows, t.cols);
}

Eigen::Map<const Eigen::MatrixXf> ParamLayout::View(int index, const float* flat) const {
  const TensorSpec& t = tensor(index);
  return Eigen::Map<const Eigen::MatrixXf>(flat + t.offset, t.rows, t.cols);
}

bool ParamLayout::operator==(const ParamLayout& other) const {
  if (size_ != other.size_ || tensors_.size() != other.tensors_.size()) return false;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const TensorSpec& a = tensors_[i];
    const TensorSpec& b = other.tensors_[i];
    if (a.name != b.name || a.offset != b.offset || a.rows != b.rows || a.cols != b.cols) {
      return false;
    }
  }
  return true;
}

}  // namespace grapevine::learn
