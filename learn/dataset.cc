#include "learn/dataset.h"

#include "base/check.h"

namespace grapevine::learn {

Dataset Dataset::Subset(std::span<const int64_t> indices) const {
  Dataset out;
  out.num_classes = num_classes;
  out.shape = shape;
  out.x.resize(x.rows(), static_cast<Eigen::Index>(indices.size()));
  out.y.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    GV_CHECK(indices[i] >= 0 && indices[i] < size());
    out.x.col(static_cast<Eigen::Index>(i)) = x.col(indices[i]);
    out.y[i] = y[static_cast<size_t>(indices[i])];
  }
  return out;
}

}  // namespace grapevine::learn
