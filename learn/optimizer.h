// Optimizers over the flat parameter vector: SGD (plain, heavy-ball momentum,
// Nesterov), Adam and AdamW. State vectors have the parameters' layout and are
// addressed by index, never by buffer address, so merges may replace the parameters
// freely; Reset() drops the state (DIMAT recreates the optimizer after every merge).
//
// Semantics follow PyTorch (torch.optim) exactly, with g the gradient:
//   SGD:       g ← g + wd·p;  if μ>0: buf ← μ·buf + g (buf starts at 0, so the first
//              step gives buf = g);  d = nesterov ? g + μ·buf : buf (or g if μ=0);
//              p ← p − lr·d.                                    (dampening 0)
//   Adam:      g ← g + wd·p (L2, torch.optim.Adam); m ← β1·m + (1−β1)·g;
//              v ← β2·v + (1−β2)·g²;  p ← p − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε).
//   AdamW:     p ← p·(1 − lr·wd) first (decoupled decay), then Adam without the L2 term.
// Each Step is one fused pass over the vectors.
//
// Thread-safety: not thread-safe; owned by one Trainer.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/status.h"

namespace grapevine::learn {

enum class OptimizerKind { kSgd, kAdam, kAdamW };

struct OptimizerOptions {
  OptimizerKind kind = OptimizerKind::kSgd;
  float momentum = 0.0f;  // SGD only
  bool nesterov = false;  // SGD only; requires momentum > 0
  float weight_decay = 0.0f;
  float beta1 = 0.9f;     // Adam/AdamW
  float beta2 = 0.999f;
  float epsilon = 1e-8f;
};

// The optimizers, one row each: ParseOptimizerKind, OptimizerKindName and the
// `--optimizer` help and check (tools/flag_sets.h) all read this table.
struct OptimizerInfo {
  std::string_view name;
  OptimizerKind kind;
};
std::span<const OptimizerInfo> AllOptimizers();

// "sgd", "adam" or "adamw"; Invalid otherwise.
Result<OptimizerKind> ParseOptimizerKind(const std::string& name);
const char* OptimizerKindName(OptimizerKind kind);
// Invalid for negative/NaN hyper-parameters, betas outside [0, 1), nesterov without momentum.
Status ValidateOptimizerOptions(const OptimizerOptions& options);

class Optimizer {
 public:
  // REQUIRES: ValidateOptimizerOptions(options).ok().
  Optimizer(const OptimizerOptions& options, int64_t num_params);

  // One update of *params with gradient `grad` and learning rate `lr`.
  void Step(float lr, const Eigen::VectorXf& grad, Eigen::VectorXf* params);
  // Drops all state (momentum buffers, moments, Adam's step count).
  void Reset();

  const OptimizerOptions& options() const { return options_; }
  // Steps since construction or the last Reset().
  int64_t steps() const { return steps_; }
  // SGD momentum buffer, or Adam's first moment m (empty for plain SGD). Same layout as
  // the parameters, for algorithms that keep or blend state across merges.
  Eigen::VectorXf& first_moment() { return first_; }
  // Adam's second moment v (empty for SGD).
  Eigen::VectorXf& second_moment() { return second_; }

  // Checkpoints: the step count and both moment vectors, little-endian (u64 steps,
  // float array m, float array v; base/bytes.h). LoadState accepts only a state of this
  // optimizer's kind and size (Invalid naming what differs) and changes nothing then.
  void SaveState(ByteWriter& out) const;
  Status LoadState(ByteReader& in);

 private:
  void SgdStep(float lr, const Eigen::VectorXf& grad, Eigen::VectorXf* params);
  void AdamStep(float lr, const Eigen::VectorXf& grad, Eigen::VectorXf* params);

  OptimizerOptions options_;
  int64_t num_params_;
  int64_t steps_ = 0;
  Eigen::VectorXf first_;
  Eigen::VectorXf second_;
};

}  // namespace grapevine::learn
