#include "merge/activation_stats.h"

#include <algorithm>
#include <cmath>

#include "base/check.h"

namespace grapevine::merge {

CorrelationAccumulator::CorrelationAccumulator(int units_a, int units_b)
    : sum_a_(Eigen::VectorXd::Zero(units_a)),
      sum_b_(Eigen::VectorXd::Zero(units_b)),
      sq_a_(Eigen::VectorXd::Zero(units_a)),
      sq_b_(Eigen::VectorXd::Zero(units_b)),
      cross_(Eigen::MatrixXd::Zero(units_a, units_b)) {
  GV_CHECK(units_a >= 0 && units_b >= 0);
}

void CorrelationAccumulator::Add(const Eigen::MatrixXf& a, const Eigen::MatrixXf& b) {
  GV_CHECK(a.rows() == units_a() && b.rows() == units_b());
  GV_CHECK(a.cols() == b.cols());
  if (a.cols() == 0) return;
  if (count_ == 0) {
    shift_a_ = a.rowwise().mean();
    shift_b_ = b.rowwise().mean();
  }
  for (Eigen::Index start = 0; start < a.cols(); start += kMaxGemmColumns) {
    const Eigen::Index width = std::min(kMaxGemmColumns, a.cols() - start);
    AddChunk(a.middleCols(start, width), b.middleCols(start, width));
  }
}

void CorrelationAccumulator::AddChunk(const Eigen::Ref<const Eigen::MatrixXf>& a,
                                      const Eigen::Ref<const Eigen::MatrixXf>& b) {
  const Eigen::MatrixXf ca = a.colwise() - shift_a_;
  const Eigen::MatrixXf cb = b.colwise() - shift_b_;
  sum_a_ += ca.rowwise().sum().cast<double>();
  sum_b_ += cb.rowwise().sum().cast<double>();
  sq_a_ += ca.rowwise().squaredNorm().cast<double>();
  sq_b_ += cb.rowwise().squaredNorm().cast<double>();
  scratch_.noalias() = ca * cb.transpose();
  cross_ += scratch_.cast<double>();
  count_ += a.cols();
}

Eigen::MatrixXd CorrelationAccumulator::Correlation() const {
  Eigen::MatrixXd corr = Eigen::MatrixXd::Zero(units_a(), units_b());
  if (count_ < 2) return corr;
  const double n = static_cast<double>(count_);
  const Eigen::VectorXd mean_a = sum_a_ / n;
  const Eigen::VectorXd mean_b = sum_b_ / n;
  // Population variances; clamp tiny negative rounding to 0.
  const Eigen::VectorXd var_a = (sq_a_ / n - mean_a.cwiseAbs2()).cwiseMax(0.0);
  const Eigen::VectorXd var_b = (sq_b_ / n - mean_b.cwiseAbs2()).cwiseMax(0.0);
  for (Eigen::Index j = 0; j < corr.cols(); ++j) {
    for (Eigen::Index i = 0; i < corr.rows(); ++i) {
      if (var_a(i) == 0.0 || var_b(j) == 0.0) continue;  // dead unit: correlation 0
      const double cov = cross_(i, j) / n - mean_a(i) * mean_b(j);
      const double denom = std::max(std::sqrt(var_a(i) * var_b(j)), kCorrelationFloor);
      corr(i, j) = cov / denom;
    }
  }
  return corr;
}

}  // namespace grapevine::merge
