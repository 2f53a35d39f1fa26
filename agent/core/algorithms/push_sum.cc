#include "agent/core/algorithms/push_sum.h"

#include <cmath>
#include <string>
#include <utility>

#include "base/check.h"

namespace grapevine::agent::algorithms {

double PushSumFraction(int out_degree) {
  GV_CHECK(out_degree >= 0);
  return 1.0 / (static_cast<double>(out_degree) + 1.0);
}

PushSum::PushSum(Eigen::VectorXf initial) : x_(std::move(initial)), w_(1.0) {}

PushSum::PushSum(Eigen::VectorXf numerator, double weight) : x_(std::move(numerator)), w_(weight) {
  GV_CHECK(std::isfinite(weight) && weight > 0.0);
}

Eigen::VectorXf PushSum::Debiased() const {
  Eigen::VectorXf z;
  DebiasedInto(&z);
  return z;
}

void PushSum::DebiasedInto(Eigen::VectorXf* z) const {
  // w_ > 0 always: it starts positive and only ever scales by s > 0 or gains arrivals > 0.
  *z = x_ * static_cast<float>(1.0 / w_);
}

void PushSum::ApplyGradientStep(float lr, const Eigen::VectorXf& grad) {
  GV_CHECK(grad.size() == x_.size());
  x_ -= lr * grad;
}

void PushSum::AddToNumerator(const Eigen::VectorXf& delta) {
  GV_CHECK(delta.size() == x_.size());
  x_ += delta;
}

PushSumShare PushSum::Share(int out_degree) {
  const double s = PushSumFraction(out_degree);
  x_ *= static_cast<float>(s);
  w_ *= s;
  return PushSumShare{x_, w_};
}

Status PushSum::Receive(const Eigen::Ref<const Eigen::VectorXf>& numerator, double weight) {
  if (numerator.size() != x_.size()) {
    return Status::Invalid("push-sum share has " + std::to_string(numerator.size()) +
                           " parameters, this model has " + std::to_string(x_.size()));
  }
  if (!std::isfinite(weight) || weight <= 0.0) {
    return Status::Invalid("push-sum share has weight " + std::to_string(weight) +
                           " (must be finite and > 0)");
  }
  if (!numerator.allFinite()) return Status::Invalid("push-sum share has a non-finite numerator");
  x_ += numerator;
  w_ += weight;
  return Status::Ok();
}

void PushSum::AddBack(const PushSumShare& share) {
  GV_CHECK(share.numerator.size() == x_.size());
  x_ += share.numerator;
  w_ += share.weight;
}

}  // namespace grapevine::agent::algorithms
