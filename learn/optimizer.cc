#include "learn/optimizer.h"

#include <cmath>

#include "base/check.h"
#include "base/join.h"

namespace grapevine::learn {

namespace {
constexpr OptimizerInfo kOptimizers[] = {
    {"sgd", OptimizerKind::kSgd},
    {"adam", OptimizerKind::kAdam},
    {"adamw", OptimizerKind::kAdamW},
};
}  // namespace

std::span<const OptimizerInfo> AllOptimizers() { return kOptimizers; }

Result<OptimizerKind> ParseOptimizerKind(const std::string& name) {
  for (const auto& o : kOptimizers) {
    if (o.name == name) return o.kind;
  }
  return Status::Invalid(
      "unknown optimizer '" + name + "' (expected " +
      JoinNames(kOptimizers, [](const OptimizerInfo& o) { return o.name; }, ", ", " or ") + ")");
}

const char* OptimizerKindName(OptimizerKind kind) {
  for (const auto& o : kOptimizers) {
    if (o.kind == kind) return o.name.data();  // the table's literals are NUL-terminated
  }
  return "?";
}

Status ValidateOptimizerOptions(const OptimizerOptions& o) {
  auto finite_nonneg = [](float v) { return std::isfinite(v) && v >= 0.0f; };
  if (!finite_nonneg(o.momentum) || o.momentum >= 1.0f) {
    return Status::Invalid("momentum must be in [0, 1)");
  }
  if (!finite_nonneg(o.weight_decay)) return Status::Invalid("weight decay must be >= 0");
  if (o.nesterov && (o.kind != OptimizerKind::kSgd || o.momentum <= 0.0f)) {
    return Status::Invalid("nesterov needs the sgd optimizer with momentum > 0");
  }
  if (!finite_nonneg(o.beta1) || o.beta1 >= 1.0f || !finite_nonneg(o.beta2) || o.beta2 >= 1.0f) {
    return Status::Invalid("adam betas must be in [0, 1)");
  }
  if (!(o.epsilon > 0.0f) || !std::isfinite(o.epsilon)) {
    return Status::Invalid("adam epsilon must be > 0");
  }
  return Status::Ok();
}

Optimizer::Optimizer(const OptimizerOptions& options, int64_t num_params)
    : options_(options), num_params_(num_params) {
  GV_CHECK(ValidateOptimizerOptions(options).ok());
  Reset();
}

void Optimizer::Reset() {
  steps_ = 0;
  const bool momentum = options_.kind == OptimizerKind::kSgd ? options_.momentum > 0.0f : true;
  first_ = momentum ? Eigen::VectorXf::Zero(num_params_) : Eigen::VectorXf();
  second_ = options_.kind == OptimizerKind::kSgd ? Eigen::VectorXf()
                                                 : Eigen::VectorXf::Zero(num_params_);
}

void Optimizer::SaveState(ByteWriter& out) const {
  out.U64(static_cast<uint64_t>(steps_));
  out.Floats({first_.data(), static_cast<size_t>(first_.size())});
  out.Floats({second_.data(), static_cast<size_t>(second_.size())});
}

Status Optimizer::LoadState(ByteReader& in) {
  const uint64_t steps = in.U64();
  std::vector<float> first = in.Floats(), second = in.Floats();
  if (!in.ok()) return Status::Invalid("optimizer state is truncated");
  if (first.size() != static_cast<size_t>(first_.size()) ||
      second.size() != static_cast<size_t>(second_.size())) {
    return Status::Invalid("optimizer state has moments of " + std::to_string(first.size()) +
                           "/" + std::to_string(second.size()) + " values, this " +
                           OptimizerKindName(options_.kind) + " optimizer keeps " +
                           std::to_string(first_.size()) + "/" + std::to_string(second_.size()));
  }
  steps_ = static_cast<int64_t>(steps);
  first_ = Eigen::Map<const Eigen::VectorXf>(first.data(), static_cast<Eigen::Index>(first.size()));
  second_ =
      Eigen::Map<const Eigen::VectorXf>(second.data(), static_cast<Eigen::Index>(second.size()));
  return Status::Ok();
}

void Optimizer::Step(float lr, const Eigen::VectorXf& grad, Eigen::VectorXf* params) {
  GV_CHECK(grad.size() == num_params_ && params->size() == num_params_);
  ++steps_;
  if (options_.kind == OptimizerKind::kSgd) {
    SgdStep(lr, grad, params);
  } else {
    AdamStep(lr, grad, params);
  }
}

void Optimizer::SgdStep(float lr, const Eigen::VectorXf& grad, Eigen::VectorXf* params) {
  float* p = params->data();
  const float* g = grad.data();
  const float wd = options_.weight_decay;
  const float mu = options_.momentum;
  const int64_t n = num_params_;
  if (mu == 0.0f) {
    for (int64_t i = 0; i < n; ++i) p[i] -= lr * (g[i] + wd * p[i]);
    return;
  }
  float* buf = first_.data();
  if (options_.nesterov) {
    for (int64_t i = 0; i < n; ++i) {
      const float gi = g[i] + wd * p[i];
      const float b = mu * buf[i] + gi;
      buf[i] = b;
      p[i] -= lr * (gi + mu * b);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const float b = mu * buf[i] + (g[i] + wd * p[i]);
      buf[i] = b;
      p[i] -= lr * b;
    }
  }
}

void Optimizer::AdamStep(float lr, const Eigen::VectorXf& grad, Eigen::VectorXf* params) {
  float* p = params->data();
  const float* g = grad.data();
  float* m = first_.data();
  float* v = second_.data();
  const float b1 = options_.beta1, b2 = options_.beta2, eps = options_.epsilon;
  const double t = static_cast<double>(steps_);
  const float step_size = static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(b1), t)));
  const float inv_sqrt_bc2 =
      static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(static_cast<double>(b2), t)));
  const bool decoupled = options_.kind == OptimizerKind::kAdamW;
  const float l2 = decoupled ? 0.0f : options_.weight_decay;
  const float shrink = decoupled ? 1.0f - lr * options_.weight_decay : 1.0f;
  const int64_t n = num_params_;
  for (int64_t i = 0; i < n; ++i) {
    const float gi = g[i] + l2 * p[i];
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * shrink - step_size * mi / (std::sqrt(vi) * inv_sqrt_bc2 + eps);
  }
}

}  // namespace grapevine::learn
