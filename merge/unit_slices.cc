#include "merge/unit_slices.h"

#include <cmath>

#include "base/check.h"

namespace grapevine::merge {
namespace {
using StridedMap =
    Eigen::Map<const Eigen::MatrixXf, 0, Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic>>;
}  // namespace

void AddSliceProducts(const learn::ParamLayout& layout, const learn::HiddenGroup& group,
                      const Eigen::VectorXf& a, const Eigen::VectorXf& b,
                      std::optional<learn::Axis> only_axis, Eigen::MatrixXf* s) {
  const Eigen::Index units = group.units;
  GV_CHECK(s->rows() == units && s->cols() == units);
  for (const learn::PermutedAxis& move : group.moves) {
    if (only_axis && move.axis != *only_axis) continue;
    const learn::TensorSpec& t = layout.tensor(move.tensor);
    const float* pa = a.data() + t.offset;
    const float* pb = b.data() + t.offset;
    const int64_t blk = move.block;
    if (move.axis == learn::Axis::kCols) {
      // Column-major: unit u's columns are one contiguous run of rows·blk floats.
      GV_CHECK(t.cols == units * blk);
      Eigen::Map<const Eigen::MatrixXf> ma(pa, t.rows * blk, units), mb(pb, t.rows * blk, units);
      s->noalias() += ma.transpose() * mb;
    } else {
      // Row r of unit u is tensor row u·blk + r: one strided view per r.
      GV_CHECK(t.rows == units * blk);
      const Eigen::Stride<Eigen::Dynamic, Eigen::Dynamic> stride(t.rows, blk);
      for (int64_t r = 0; r < blk; ++r) {
        StridedMap ma(pa + r, units, t.cols, stride), mb(pb + r, units, t.cols, stride);
        s->noalias() += ma * mb.transpose();
      }
    }
  }
}

Eigen::MatrixXd SliceCosine(const learn::ParamLayout& layout, const learn::HiddenGroup& group,
                            const Eigen::VectorXf& a, const Eigen::VectorXf& b,
                            std::optional<learn::Axis> only_axis) {
  const Eigen::Index units = group.units;
  Eigen::MatrixXf ab = Eigen::MatrixXf::Zero(units, units);
  Eigen::MatrixXf aa = Eigen::MatrixXf::Zero(units, units);
  Eigen::MatrixXf bb = Eigen::MatrixXf::Zero(units, units);
  AddSliceProducts(layout, group, a, b, only_axis, &ab);
  AddSliceProducts(layout, group, a, a, only_axis, &aa);
  AddSliceProducts(layout, group, b, b, only_axis, &bb);
  Eigen::MatrixXd cos = Eigen::MatrixXd::Zero(units, units);
  for (Eigen::Index v = 0; v < units; ++v) {
    for (Eigen::Index u = 0; u < units; ++u) {
      const double denom = std::sqrt(static_cast<double>(aa(u, u)) * bb(v, v));
      if (denom > 0.0) cos(u, v) = ab(u, v) / denom;
    }
  }
  return cos;
}

}  // namespace grapevine::merge
