// Trainer: local training of one model on one data shard. Owns the Model (scratch),
// the parameter vector, the optimizer, the shard and its example order.
//
// Step() is the one-step primitive (one optimizer step on the next batch of the
// current epoch's order); TrainEpoch() is a thin loop over Step(). The agent calls
// Step() between gossip rounds and reads/replaces the parameters in between
// (mutable_params(), ResetOptimizer() after a merge, samples_seen()).
//
// Epochs: the visit order comes from an ExampleOrder (learn/order.h): `rr` reshuffles
// every epoch (seeded); `grab` is GraB PairBalance, which needs per-unit gradients.
// For grab the batch is split into micro-batches of grab_micro_batch examples; each
// micro-batch runs its own forward/backward (same FLOPs as one batch, slightly smaller
// GEMMs), its mean gradient is handed to Observe(), and the batch gradient is their
// size-weighted mean — identical to the plain batch gradient. The extra cost is two
// O(params) passes per micro-batch (accumulate + PairBalance).
// The last batch of an epoch may be short (no examples dropped).
//
// Allocation: batch buffers and model workspaces are reused, so steady-state Step()
// does not allocate (only a short last batch resizes them).
// Thread-safety: not thread-safe; one Trainer per thread.
#pragma once

#include <Eigen/Core>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "learn/dataset.h"
#include "learn/model.h"
#include "learn/optimizer.h"
#include "learn/sampling.h"
#include "learn/order.h"
#include "learn/schedule.h"

namespace grapevine::learn {

struct TrainerOptions {
  int64_t batch_size = 64;
  double learning_rate = 0.05;
  OptimizerOptions optimizer;
  Schedule schedule;
  int64_t total_epochs = 0;       // horizon of the cosine schedule; 0 = none
  std::string order = "rr";       // "rr" or "grab"
  int64_t grab_micro_batch = 16;  // examples per GraB unit
  uint64_t seed = 1;              // init (when no params are given) and example order
  // Gradient-norm clipping (torch.nn.utils.clip_grad_norm_): before every optimizer step a
  // gradient whose global L2 norm exceeds this is scaled down to it. 0 = off. The engine's
  // raw default is off; TrainerOptionsFrom() applies the recipe's (kDefaultClipGradNorm).
  double clip_grad_norm = 0.0;
};

// The default of --clip-grad-norm (docs/learn.md "Gradient clipping" has the measurements
// that chose it): large enough that IID training is almost never clipped, small enough
// that a 2-class shard's first steps at lr 0.05 / momentum 0.9 cannot blow up.
inline constexpr double kDefaultClipGradNorm = 5.0;

// The local-training flags both `grapevine train` and `grapevine agent` take, as the
// user spells them. TrainerOptionsFrom() is the one place they are checked and turned
// into TrainerOptions (momentum and Nesterov apply to SGD only).
struct TrainingRecipe {
  std::string optimizer = "sgd";
  double lr = 0.05;
  double momentum = 0.9;
  bool nesterov = false;
  double weight_decay = 0.0;
  int64_t batch = 64;
  std::string schedule = "constant";
  std::string order = "rr";
  double clip_grad_norm = kDefaultClipGradNorm;  // 0 = off
};

// Status::Invalid naming the flag for an unknown optimizer, schedule or order, a
// non-positive learning rate or batch, or a negative clip norm. Callers fill in seed, total_epochs, grab_micro_batch.
Result<TrainerOptions> TrainerOptionsFrom(const TrainingRecipe& recipe);

class Trainer {
 public:
  // Invalid for an empty shard, a shard that does not fit the model, bad options or
  // initial params of the wrong size. Without initial params: model->InitParams(seed).
  static Result<std::unique_ptr<Trainer>> Create(std::unique_ptr<Model> model, Dataset shard,
                                                 const TrainerOptions& options,
                                                 Eigen::VectorXf initial_params = {});

  // One optimizer step on the next batch; returns the batch's mean loss (before the step).
  // Same as ComputeGradient() followed by ApplyGradient(gradient()).
  float Step();
  // Called after every gradient computation (ComputeGradient, Step, GradientOnSample)
  // with the wall time it took; the agent's straggler emulation sleeps from here.
  void set_compute_hook(std::function<void(std::chrono::nanoseconds)> hook) {
    compute_hook_ = std::move(hook);
  }
  // Step in two halves, for algorithms that combine gradients before updating (CGA):
  // ComputeGradient() fills gradient() from the next batch and returns its loss;
  // ApplyGradient(g) then takes the optimizer step with g (any vector of the model's
  // size; clipped to options().clip_grad_norm first) and advances the example order.
  // REQUIRES: they alternate.
  float ComputeGradient();
  const Eigen::VectorXf& gradient() const { return grad_; }
  void ApplyGradient(const Eigen::VectorXf& grad);
  // Gradient of `params` (e.g. a neighbour's model) on a uniformly drawn batch of this
  // shard, leaving the example order, the optimizer and a pending ComputeGradient()
  // untouched. Returns the batch loss.
  float GradientOnSample(const Eigen::VectorXf& params, Eigen::VectorXf* grad);
  // Global sampling (learn/sampling.h): the examples and learning-rate scale of the next
  // steps, one per Step()/ComputeGradient() in order (steps beyond the plan take --batch
  // at scale 1). A step of 0 examples computes nothing and leaves the parameters and the
  // optimizer state alone; it still counts as a step and returns the last loss.
  void PlanSteps(std::vector<StepPlan> plan) { planned_.assign(plan.begin(), plan.end()); }
  // Steps to the end of the current epoch; returns the mean training loss per example.
  double TrainEpoch();
  // Loss and accuracy of the current parameters on `data`.
  EvalResult Evaluate(const Dataset& data);

  const Eigen::VectorXf& params() const { return params_; }
  Eigen::VectorXf& mutable_params() { return params_; }
  // REQUIRES: params.size() == model().num_params().
  void SetParams(const Eigen::VectorXf& params);
  void ResetOptimizer() { optimizer_.Reset(); }

  Model& model() { return *model_; }
  Optimizer& optimizer() { return optimizer_; }
  const Dataset& shard() const { return shard_; }
  const TrainerOptions& options() const { return options_; }

  int64_t samples_seen() const { return samples_seen_; }
  int64_t steps() const { return steps_; }
  int64_t epochs_completed() const { return epoch_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  // Optimizer steps whose gradient was scaled down by clip_grad_norm.
  int64_t clipped_steps() const { return clipped_steps_; }
  // A ComputeGradient() whose ApplyGradient() has not come yet.
  bool step_pending() const { return pending_batch_ != 0 || skip_pending_; }
  // Learning rate the next Step() will use.
  double learning_rate() const;

  // Checkpoints (agent/core/checkpoint.h): everything that decides the next steps —
  // parameters, optimizer state, step/sample/epoch counters, the position in the epoch,
  // the example order's state and GradientOnSample's RNG — little-endian (base/bytes.h;
  // docs/checkpoints.md has the layout). A trainer made with the same model, shard and
  // options that loads this state takes bit-exactly the steps the saved one would have.
  // REQUIRES (SaveState): no ComputeGradient() pending.
  std::vector<uint8_t> SaveState() const;
  // Invalid (naming what differs; the trainer unchanged) for a state of another model
  // size, optimizer, shard size or order kind, or a malformed one.
  Status LoadState(std::span<const uint8_t> state);

 private:
  Trainer(std::unique_ptr<Model> model, Dataset shard, const TrainerOptions& options,
          std::unique_ptr<ExampleOrder> order, Eigen::VectorXf params);
  float GrabGradient(int64_t batch);
  void ReportCompute(std::chrono::steady_clock::time_point started) const;

  std::unique_ptr<Model> model_;
  Dataset shard_;
  TrainerOptions options_;
  std::unique_ptr<ExampleOrder> order_;
  Eigen::VectorXf params_;
  Optimizer optimizer_;
  Eigen::VectorXf grad_;
  Eigen::VectorXf micro_grad_;
  Eigen::MatrixXf batch_x_;
  std::vector<int32_t> batch_y_;
  int64_t cursor_ = 0;  // position in the current epoch's order
  int64_t epoch_ = 0;
  int64_t steps_ = 0;
  int64_t samples_seen_ = 0;
  int64_t steps_per_epoch_ = 1;
  int64_t pending_batch_ = 0;  // examples of a ComputeGradient() not applied yet
  bool skip_pending_ = false;  // a planned step of 0 examples, not applied yet
  float step_scale_ = 1.0f;    // learning-rate scale of the pending step
  float last_loss_ = 0.0f;     // what a step of 0 examples returns
  std::deque<StepPlan> planned_;
  int64_t clipped_steps_ = 0;
  Eigen::VectorXf clipped_;    // the scaled gradient of a clipped step (reused)
  std::mt19937_64 sample_rng_;  // GradientOnSample's batches
  std::function<void(std::chrono::nanoseconds)> compute_hook_;
  Eigen::MatrixXf sample_x_;
  std::vector<int32_t> sample_y_;
};

}  // namespace grapevine::learn
