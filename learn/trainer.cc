#include "learn/trainer.h"

#include <algorithm>
#include <random>
#include <span>
#include <sstream>

#include "base/bytes.h"
#include "base/check.h"

namespace grapevine::learn {

Result<TrainerOptions> TrainerOptionsFrom(const TrainingRecipe& recipe) {
  if (recipe.batch <= 0) return Status::Invalid("--batch must be positive");
  if (!(recipe.lr > 0)) return Status::Invalid("--lr must be positive");
  if (recipe.order != "rr" && recipe.order != "grab") {
    return Status::Invalid("--order must be rr or grab, not '" + recipe.order + "'");
  }
  if (!(recipe.clip_grad_norm >= 0)) {
    return Status::Invalid("--clip-grad-norm must be >= 0 (0 = off)");
  }
  TrainerOptions t;
  t.batch_size = recipe.batch;
  t.clip_grad_norm = recipe.clip_grad_norm;
  t.learning_rate = recipe.lr;
  GV_ASSIGN_OR_RETURN(t.optimizer.kind, ParseOptimizerKind(recipe.optimizer));
  const bool sgd = t.optimizer.kind == OptimizerKind::kSgd;
  t.optimizer.momentum = sgd ? static_cast<float>(recipe.momentum) : 0.0f;
  t.optimizer.nesterov = sgd && recipe.nesterov;
  t.optimizer.weight_decay = static_cast<float>(recipe.weight_decay);
  GV_RETURN_IF_ERROR(ValidateOptimizerOptions(t.optimizer));
  GV_ASSIGN_OR_RETURN(t.schedule, ParseSchedule(recipe.schedule));
  t.order = recipe.order;
  return t;
}

Result<std::unique_ptr<Trainer>> Trainer::Create(std::unique_ptr<Model> model, Dataset shard,
                                                 const TrainerOptions& options,
                                                 Eigen::VectorXf initial_params) {
  GV_CHECK(model != nullptr);
  if (shard.size() == 0) return Status::Invalid("training shard is empty");
  if (shard.features() != model->input_shape().size() ||
      (!shard.compact && shard.x.cols() != shard.size()) ||
      (shard.compact && static_cast<int64_t>(shard.codes.size()) !=
                            shard.size() * shard.features())) {
    return Status::Invalid("training data has " + std::to_string(shard.features()) +
                           " features, model '" + model->spec() + "' expects " +
                           std::to_string(model->input_shape().size()));
  }
  for (int32_t label : shard.y) {
    if (label < 0 || label >= model->num_classes()) {
      return Status::Invalid("label " + std::to_string(label) + " outside [0, " +
                             std::to_string(model->num_classes()) + ")");
    }
  }
  if (options.batch_size < 1) return Status::Invalid("batch size must be >= 1");
  if (options.grab_micro_batch < 1) return Status::Invalid("grab micro-batch must be >= 1");
  if (!(options.learning_rate > 0.0)) return Status::Invalid("learning rate must be > 0");
  if (options.total_epochs < 0) return Status::Invalid("total epochs must be >= 0");
  if (!(options.clip_grad_norm >= 0)) return Status::Invalid("clip norm must be >= 0");
  GV_RETURN_IF_ERROR(ValidateOptimizerOptions(options.optimizer));
  if (initial_params.size() == 0) {
    initial_params = model->InitParams(options.seed);
  } else if (initial_params.size() != model->num_params()) {
    return Status::Invalid("initial parameters have " + std::to_string(initial_params.size()) +
                           " entries, model has " + std::to_string(model->num_params()));
  }
  GV_ASSIGN_OR_RETURN(auto order,
                      MakeOrder(options.order, shard.size(), model->num_params(), options.seed));
  return std::unique_ptr<Trainer>(new Trainer(std::move(model), std::move(shard), options,
                                              std::move(order), std::move(initial_params)));
}

Trainer::Trainer(std::unique_ptr<Model> model, Dataset shard, const TrainerOptions& options,
                 std::unique_ptr<ExampleOrder> order, Eigen::VectorXf params)
    : model_(std::move(model)),
      shard_(std::move(shard)),
      options_(options),
      order_(std::move(order)),
      params_(std::move(params)),
      optimizer_(options.optimizer, model_->num_params()),
      sample_rng_(options.seed ^ 0x63676121u) {
  const int64_t batch = std::min(options_.batch_size, shard_.size());
  steps_per_epoch_ = (shard_.size() + options_.batch_size - 1) / options_.batch_size;
  grad_.resize(model_->num_params());
  if (order_->WantsGradients()) micro_grad_.resize(model_->num_params());
  if (options_.clip_grad_norm > 0) clipped_.resize(model_->num_params());
  batch_x_.resize(shard_.features(), batch);
  batch_y_.resize(static_cast<size_t>(batch));
}

double Trainer::learning_rate() const {
  return ScheduledRate(options_.schedule, options_.learning_rate, steps_, steps_per_epoch_,
                       options_.total_epochs * steps_per_epoch_);
}

void Trainer::SetParams(const Eigen::VectorXf& params) {
  GV_CHECK(params.size() == params_.size());
  params_ = params;
}

std::vector<uint8_t> Trainer::SaveState() const {
  GV_CHECK(pending_batch_ == 0 && !skip_pending_);
  ByteWriter out;
  out.Floats({params_.data(), static_cast<size_t>(params_.size())});
  optimizer_.SaveState(out);
  out.I64(steps_);
  out.I64(samples_seen_);
  out.I64(epoch_);
  out.I64(cursor_);
  out.I64(clipped_steps_);
  std::ostringstream rng;
  rng << sample_rng_;  // the standard fixes mt19937_64's textual state
  out.String(rng.str());
  ByteWriter order;
  order_->SaveState(order);
  out.Bytes(order.bytes());
  return out.Take();
}

Status Trainer::LoadState(std::span<const uint8_t> state) {
  ByteReader in(state);
  std::vector<float> params = in.Floats();
  if (!in.ok()) return Status::Invalid("trainer state is truncated");
  if (params.size() != static_cast<size_t>(params_.size())) {
    return Status::Invalid("trainer state has " + std::to_string(params.size()) +
                           " parameters, model '" + model_->spec() + "' has " +
                           std::to_string(params_.size()));
  }
  Optimizer optimizer = optimizer_;
  GV_RETURN_IF_ERROR(optimizer.LoadState(in));
  const int64_t steps = in.I64(), samples = in.I64(), epoch = in.I64(), cursor = in.I64(),
                clipped = in.I64();
  std::istringstream rng_text(in.String());
  std::vector<uint8_t> order_state = in.Bytes();
  if (!in.done()) return Status::Invalid("trainer state is truncated or has trailing bytes");
  if (steps < 0 || samples < 0 || epoch < 0 || clipped < 0 || cursor < 0 ||
      cursor >= shard_.size()) {
    return Status::Invalid("trainer state has a position outside this shard of " +
                           std::to_string(shard_.size()) + " examples");
  }
  std::mt19937_64 rng;
  rng_text >> rng;
  if (rng_text.fail()) return Status::Invalid("trainer state has a malformed RNG state");
  GV_ASSIGN_OR_RETURN(auto order,
                      MakeOrder(options_.order, shard_.size(), model_->num_params(), options_.seed));
  ByteReader order_in(order_state);
  GV_RETURN_IF_ERROR(order->LoadState(order_in));
  if (!order_in.done()) return Status::Invalid("example order state has trailing bytes");
  params_ = Eigen::Map<const Eigen::VectorXf>(params.data(), static_cast<Eigen::Index>(params.size()));
  optimizer_ = std::move(optimizer);
  steps_ = steps;
  samples_seen_ = samples;
  epoch_ = epoch;
  cursor_ = cursor;
  clipped_steps_ = clipped;
  sample_rng_ = rng;
  order_ = std::move(order);
  return Status::Ok();
}

float Trainer::Step() {
  const float loss = ComputeGradient();
  ApplyGradient(grad_);
  return loss;
}

void Trainer::ReportCompute(std::chrono::steady_clock::time_point started) const {
  if (compute_hook_) compute_hook_(std::chrono::steady_clock::now() - started);
}

float Trainer::ComputeGradient() {
  GV_CHECK(pending_batch_ == 0 && !skip_pending_);
  const auto started = std::chrono::steady_clock::now();
  int64_t want = options_.batch_size;
  step_scale_ = 1.0f;
  if (!planned_.empty()) {
    want = planned_.front().examples;
    step_scale_ = planned_.front().lr_scale;
    planned_.pop_front();
    if (want <= 0) {
      grad_.setZero();
      skip_pending_ = true;
      return last_loss_;
    }
    if (want > batch_x_.cols()) {
      batch_x_.resize(shard_.features(), want);
      batch_y_.resize(static_cast<size_t>(want));
    }
  }
  const std::vector<int64_t>& order = order_->EpochOrder();
  const int64_t n = shard_.size();
  const int64_t batch = std::min(want, n - cursor_);
  // Gather the batch into the preallocated buffer (one contiguous column per example;
  // a compact shard is decoded here, one table lookup per feature).
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t example = order[static_cast<size_t>(cursor_ + i)];
    shard_.CopyExample(example, batch_x_.col(i).data());
    batch_y_[static_cast<size_t>(i)] = shard_.y[static_cast<size_t>(example)];
  }
  float loss;
  if (order_->WantsGradients()) {
    loss = GrabGradient(batch);
  } else {
    loss = model_->LossAndGradient(params_, batch_x_.leftCols(batch),
                                   std::span<const int32_t>(batch_y_.data(), batch), grad_.data());
  }
  pending_batch_ = batch;
  last_loss_ = loss;
  ReportCompute(started);
  return loss;
}

void Trainer::ApplyGradient(const Eigen::VectorXf& grad) {
  GV_CHECK(pending_batch_ > 0 || skip_pending_);
  GV_CHECK(grad.size() == params_.size());
  if (skip_pending_) {  // a planned step of 0 examples
    skip_pending_ = false;
    ++steps_;
    return;
  }
  const float lr = static_cast<float>(learning_rate()) * step_scale_;
  const double clip = options_.clip_grad_norm;
  const double norm = clip > 0 ? static_cast<double>(grad.norm()) : 0.0;
  // A non-finite norm fails the comparison: NaN is passed on for the caller's loss check
  // to report, never hidden by the scaling.
  if (clip > 0 && norm > clip) {
    clipped_ = grad * static_cast<float>(clip / (norm + 1e-6));  // PyTorch's coefficient
    optimizer_.Step(lr, clipped_, &params_);
    ++clipped_steps_;
  } else {
    optimizer_.Step(lr, grad, &params_);
  }
  ++steps_;
  samples_seen_ += pending_batch_;
  cursor_ += pending_batch_;
  pending_batch_ = 0;
  if (cursor_ == shard_.size()) {
    order_->EndEpoch();
    cursor_ = 0;
    ++epoch_;
  }
}

float Trainer::GradientOnSample(const Eigen::VectorXf& params, Eigen::VectorXf* grad) {
  GV_CHECK(params.size() == params_.size());
  const auto started = std::chrono::steady_clock::now();
  const int64_t n = shard_.size();
  const int64_t batch = std::min(options_.batch_size, n);
  if (sample_x_.cols() != batch) {
    sample_x_.resize(shard_.features(), batch);
    sample_y_.resize(static_cast<size_t>(batch));
  }
  std::uniform_int_distribution<int64_t> pick(0, n - 1);
  for (int64_t i = 0; i < batch; ++i) {
    const int64_t example = pick(sample_rng_);
    shard_.CopyExample(example, sample_x_.col(i).data());
    sample_y_[static_cast<size_t>(i)] = shard_.y[static_cast<size_t>(example)];
  }
  grad->resize(params.size());
  const float loss = model_->LossAndGradient(
      params, sample_x_, std::span<const int32_t>(sample_y_.data(), batch), grad->data());
  ReportCompute(started);
  return loss;
}

float Trainer::GrabGradient(int64_t batch) {
  const std::vector<int64_t>& order = order_->EpochOrder();
  const int64_t micro = options_.grab_micro_batch;
  double loss = 0;
  for (int64_t start = 0; start < batch; start += micro) {
    const int64_t m = std::min(micro, batch - start);
    const float micro_loss = model_->LossAndGradient(
        params_, batch_x_.middleCols(start, m),
        std::span<const int32_t>(batch_y_.data() + start, m), micro_grad_.data());
    order_->Observe(order[static_cast<size_t>(cursor_ + start)], micro_grad_);
    const float weight = static_cast<float>(m) / static_cast<float>(batch);
    if (start == 0) {
      grad_ = weight * micro_grad_;
    } else {
      grad_ += weight * micro_grad_;
    }
    loss += static_cast<double>(micro_loss) * m;
  }
  return static_cast<float>(loss / static_cast<double>(batch));
}

double Trainer::TrainEpoch() {
  double loss_sum = 0;
  int64_t examples = 0;
  do {
    const int64_t batch = std::min(options_.batch_size, shard_.size() - cursor_);
    loss_sum += static_cast<double>(Step()) * static_cast<double>(batch);
    examples += batch;
  } while (cursor_ != 0);
  return loss_sum / static_cast<double>(examples);
}

EvalResult Trainer::Evaluate(const Dataset& data) {
  return learn::Evaluate(*model_, params_, data);
}

}  // namespace grapevine::learn
