#include "learn/model.h"

#include <cmath>

#include "base/check.h"
#include "learn/loss.h"

namespace grapevine::learn {
namespace {

// SplitMix64: tiny, seedable and identical on every platform.
uint64_t SplitMix64(uint64_t* state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double Uniform01(uint64_t* state) {  // in (0, 1]
  return (static_cast<double>(SplitMix64(state) >> 11) + 1.0) * 0x1.0p-53;
}

void HashBytes(uint64_t* h, const void* data, size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    *h ^= p[i];
    *h *= 0x100000001B3ull;  // FNV-1a 64
  }
}

void HashInt(uint64_t* h, int64_t v) {
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(static_cast<uint64_t>(v) >> (8 * i));
  HashBytes(h, bytes, 8);
}

}  // namespace

Model::Model(std::string spec, Shape input, int num_classes)
    : spec_(std::move(spec)), input_(input), num_classes_(num_classes) {}

Model::~Model() = default;

uint64_t Model::Fingerprint() const {
  uint64_t h = 0xCBF29CE484222325ull;
  HashBytes(&h, spec_.data(), spec_.size());
  HashInt(&h, input_.channels);
  HashInt(&h, input_.height);
  HashInt(&h, input_.width);
  HashInt(&h, num_classes_);
  for (const TensorSpec& t : layout_.tensors()) {
    HashBytes(&h, t.name.data(), t.name.size());
    HashInt(&h, t.offset);
    HashInt(&h, t.rows);
    HashInt(&h, t.cols);
  }
  return h;
}

Eigen::VectorXf Model::InitParams(uint64_t seed) const {
  Eigen::VectorXf params = Eigen::VectorXf::Zero(layout_.size());
  uint64_t state = seed ^ 0x6A09E667F3BCC909ull;
  for (int t = 0; t < layout_.num_tensors(); ++t) {
    const int64_t fan_in = fan_in_[static_cast<size_t>(t)];
    if (fan_in == 0) continue;  // bias
    const double stddev = std::sqrt(2.0 / static_cast<double>(fan_in));
    const TensorSpec& spec = layout_.tensor(t);
    float* p = params.data() + spec.offset;
    // Box–Muller, both outputs used.
    for (int64_t i = 0; i < spec.size(); i += 2) {
      const double r = std::sqrt(-2.0 * std::log(Uniform01(&state)));
      const double theta = 2.0 * M_PI * Uniform01(&state);
      p[i] = static_cast<float>(stddev * r * std::cos(theta));
      if (i + 1 < spec.size()) p[i + 1] = static_cast<float>(stddev * r * std::sin(theta));
    }
  }
  return params;
}

void Model::Forward(const float* params, const ConstMatrixRef& x) {
  GV_CHECK(x.rows() == input_.size());
  acts_.resize(layers_.size());
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (i == 0) {
      layers_[i]->Forward(params, x, &acts_[i]);
    } else {
      layers_[i]->Forward(params, acts_[i - 1], &acts_[i]);
    }
  }
}

float Model::LossAndGradient(const Eigen::VectorXf& params, const ConstMatrixRef& x,
                             std::span<const int32_t> y, Eigen::VectorXf* grad) {
  grad->resize(layout_.size());
  return LossAndGradient(params, x, y, grad->data());
}

float Model::LossAndGradient(const Eigen::VectorXf& params, const ConstMatrixRef& x,
                             std::span<const int32_t> y, float* grad) {
  GV_CHECK(params.size() == layout_.size());
  Forward(params.data(), x);
  deltas_.resize(layers_.size());
  const size_t last = layers_.size() - 1;
  const float loss = SoftmaxCrossEntropy(acts_[last], y, &deltas_[last]);
  for (size_t i = last + 1; i-- > static_cast<size_t>(first_param_layer_);) {
    Eigen::MatrixXf* din = i > static_cast<size_t>(first_param_layer_) ? &deltas_[i - 1] : nullptr;
    if (i == 0) {
      layers_[i]->Backward(params.data(), x, acts_[i], &deltas_[i], grad, din);
    } else {
      layers_[i]->Backward(params.data(), acts_[i - 1], acts_[i], &deltas_[i], grad, din);
    }
  }
  return loss;
}

void Model::Logits(const Eigen::VectorXf& params, const ConstMatrixRef& x,
                   Eigen::MatrixXf* out) {
  GV_CHECK(params.size() == layout_.size());
  Forward(params.data(), x);
  *out = acts_.back();
}

std::vector<Eigen::MatrixXf> Model::HiddenActivations(const Eigen::VectorXf& params,
                                                      const ConstMatrixRef& x) {
  GV_CHECK(params.size() == layout_.size());
  Forward(params.data(), x);
  std::vector<Eigen::MatrixXf> out;
  out.reserve(group_layers_.size());
  for (int layer : group_layers_) out.push_back(acts_[static_cast<size_t>(layer)]);
  return out;
}

std::vector<Eigen::MatrixXf> Model::HiddenPreActivations(const Eigen::VectorXf& params,
                                                         const ConstMatrixRef& x,
                                                         int last_group) {
  GV_CHECK(params.size() == layout_.size() && x.rows() == input_.size());
  const int groups = static_cast<int>(group_layers_.size());
  GV_CHECK(last_group < groups);
  if (last_group < 0) last_group = groups - 1;
  std::vector<Eigen::MatrixXf> out(static_cast<size_t>(last_group + 1));
  if (out.empty()) return out;
  acts_.resize(layers_.size());
  // One pass up to the last wanted group: a group's layer runs once, without its
  // ReLU, and the next layer reads the ReLU of that.
  size_t g = 0;
  const auto stop = static_cast<size_t>(group_layers_[static_cast<size_t>(last_group)]);
  for (size_t i = 0; i <= stop; ++i) {
    const ConstMatrixRef in = i == 0 ? x : ConstMatrixRef(acts_[i - 1]);
    if (static_cast<int>(i) == group_layers_[g]) {
      layers_[i]->ForwardPreActivation(params.data(), in, &out[g]);
      if (i < stop) acts_[i] = out[g].cwiseMax(0.0f);
      ++g;
    } else {
      layers_[i]->Forward(params.data(), in, &acts_[i]);
    }
  }
  return out;
}

EvalResult Evaluate(Model& model, const Eigen::VectorXf& params, const Dataset& data,
                    int64_t chunk) {
  GV_CHECK(chunk > 0);
  EvalResult result;
  result.examples = data.size();
  if (data.size() == 0) return result;
  Eigen::MatrixXf logits;
  Eigen::MatrixXf decoded;  // a compact dataset's chunk as floats
  double loss_sum = 0;
  int64_t correct = 0;
  for (int64_t start = 0; start < data.size(); start += chunk) {
    const int64_t n = std::min(chunk, data.size() - start);
    std::span<const int32_t> labels(data.y.data() + start, static_cast<size_t>(n));
    model.Logits(params, data.Columns(start, n, &decoded), &logits);
    loss_sum += static_cast<double>(SoftmaxCrossEntropy(logits, labels, nullptr)) * static_cast<double>(n);
    correct += CountCorrect(logits, labels);
  }
  result.loss = loss_sum / static_cast<double>(data.size());
  result.accuracy = static_cast<double>(correct) / static_cast<double>(data.size());
  return result;
}

}  // namespace grapevine::learn
