#include "learn/dataset.h"

#include <algorithm>
#include <cstring>

#include "base/check.h"

namespace grapevine::learn {

void Dataset::CopyExample(int64_t i, float* dst) const {
  GV_CHECK(i >= 0 && i < size());
  const int64_t f = features();
  if (!compact) {
    std::memcpy(dst, x.col(i).data(), static_cast<size_t>(f) * sizeof(float));
    return;
  }
  // Restrict: dst cannot alias the table, which lets the compiler vectorise the lookups
  // (AVX2 gathers; BM_GatherBatch in bench/learn measures it).
  const uint8_t* __restrict src = codes.data() + i * f;
  const float* __restrict table = decode.data();
  float* __restrict out = dst;
  for (int64_t k = 0; k < f; ++k) out[k] = table[src[k]];
}

Eigen::Ref<const Eigen::MatrixXf> Dataset::Columns(int64_t start, int64_t n,
                                                   Eigen::MatrixXf* scratch) const {
  GV_CHECK(start >= 0 && n >= 0 && start + n <= size());
  if (!compact) return x.middleCols(start, n);
  scratch->resize(features(), n);
  for (int64_t i = 0; i < n; ++i) CopyExample(start + i, scratch->col(i).data());
  return *scratch;
}

Eigen::MatrixXf Dataset::Dense() const {
  if (!compact) return x;
  Eigen::MatrixXf out;
  Columns(0, size(), &out);
  return out;
}

Dataset Dataset::Subset(std::span<const int64_t> indices) const {
  Dataset out;
  out.num_classes = num_classes;
  out.shape = shape;
  out.compact = compact;
  out.decode = decode;
  const int64_t f = features();
  if (compact) {
    out.codes.resize(indices.size() * static_cast<size_t>(f));
  } else {
    out.x.resize(x.rows(), static_cast<Eigen::Index>(indices.size()));
  }
  out.y.resize(indices.size());
  for (size_t i = 0; i < indices.size(); ++i) {
    GV_CHECK(indices[i] >= 0 && indices[i] < size());
    if (compact) {
      std::copy_n(codes.data() + indices[i] * f, f, out.codes.data() + static_cast<int64_t>(i) * f);
    } else {
      out.x.col(static_cast<Eigen::Index>(i)) = x.col(indices[i]);
    }
    out.y[i] = y[static_cast<size_t>(indices[i])];
  }
  return out;
}

int64_t Dataset::MemoryBytes() const {
  return static_cast<int64_t>(codes.size() + static_cast<size_t>(x.size()) * sizeof(float) +
                              y.size() * sizeof(int32_t));
}

}  // namespace grapevine::learn
