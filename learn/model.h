// Model: a network architecture (layers, parameter layout, permutation symmetry) plus
// the scratch workspaces to run it. Parameters are NOT owned: every call takes the flat
// parameter vector, so one Model runs self's and neighbours' parameters alike.
//
// Built from a spec string by ParseModel (grammar in docs/learn.md):
//   mlp:784-256-128-10        dense layers with ReLU; first = input size, last = classes
//   mlp                       the default: mlp:<input size>-256-128-<classes>
//   cnn:c32-p-c64-p-d128      conv3x3(32)+ReLU, maxpool 2×2, conv3x3(64)+ReLU, maxpool,
//                             flatten, dense 128 + ReLU, dense num_classes
//                             (cNkK = N channels with a K×K kernel, K odd)
// Inputs are features × batch matrices (layouts in param_layout.h and layers.h).
//
// Thread-safety: not thread-safe (layers and workspaces are scratch); use one Model per
// thread. Workspaces are resized only when the batch size changes, so repeated calls
// at one batch size do not allocate.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "learn/dataset.h"
#include "learn/layers.h"
#include "learn/param_layout.h"
#include "learn/symmetry.h"

namespace grapevine::learn {

class Model {
 public:
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model();

  const ParamLayout& layout() const { return layout_; }
  const SymmetrySpec& symmetry() const { return symmetry_; }
  const std::string& spec() const { return spec_; }
  Shape input_shape() const { return input_; }
  int num_classes() const { return num_classes_; }
  int64_t num_params() const { return layout_.size(); }
  // Stable 64-bit hash of spec, input shape, class count and tensor shapes: two peers
  // can exchange parameter vectors iff their fingerprints match.
  uint64_t Fingerprint() const;

  // Seeded Kaiming (He) normal init: weight ~ N(0, 2 / fan_in), biases 0. Deterministic
  // across platforms (own generator, no std:: distributions).
  Eigen::VectorXf InitParams(uint64_t seed) const;

  // Mean softmax cross-entropy on (x, y); writes the gradient of the mean loss into
  // *grad (resized to num_params()). x: input_shape().size() × batch.
  float LossAndGradient(const Eigen::VectorXf& params, const ConstMatrixRef& x,
                        std::span<const int32_t> y, Eigen::VectorXf* grad);
  // Same, with the gradient written into a caller-owned buffer of num_params() floats.
  float LossAndGradient(const Eigen::VectorXf& params, const ConstMatrixRef& x,
                        std::span<const int32_t> y, float* grad);

  // Logits (num_classes × batch).
  void Logits(const Eigen::VectorXf& params, const ConstMatrixRef& x, Eigen::MatrixXf* out);

  // Post-ReLU activations at every alignment point, one matrix per symmetry group:
  // units × batch for dense groups, channels × (batch·H·W) for conv groups.
  std::vector<Eigen::MatrixXf> HiddenActivations(const Eigen::VectorXf& params,
                                                 const ConstMatrixRef& x);

  // The same alignment points before their ReLU (per group: units × samples, conv:
  // channels × samples·H·W). REPAIR reads these: they are affine in the group's
  // producer rows, so a per-unit scale and shift of those rows sets them exactly.
  // With last_group >= 0 the pass stops there and returns groups 0..last_group.
  std::vector<Eigen::MatrixXf> HiddenPreActivations(const Eigen::VectorXf& params,
                                                    const ConstMatrixRef& x,
                                                    int last_group = -1);

 private:
  friend class ModelBuilder;
  Model(std::string spec, Shape input, int num_classes);
  // Runs the forward pass; the output of layer i is in acts_[i].
  void Forward(const float* params, const ConstMatrixRef& x);

  std::string spec_;
  Shape input_;
  int num_classes_;
  ParamLayout layout_;
  SymmetrySpec symmetry_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<int64_t> fan_in_;         // per layout tensor; 0 for biases
  std::vector<int> group_layers_;       // layer index whose output is groups[g]'s activation
  int first_param_layer_ = 0;
  std::vector<Eigen::MatrixXf> acts_;   // forward outputs, one per layer
  std::vector<Eigen::MatrixXf> deltas_; // d loss / d acts_[i]
};

// Builds a Model from a spec (grammar above). Errors are Status::Invalid naming the
// offending token, e.g. "model spec 'mlp:784-x-10': bad layer size 'x'".
Result<std::unique_ptr<Model>> ParseModel(const std::string& spec, Shape input,
                                          int num_classes);

struct EvalResult {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction in [0, 1]
  int64_t examples = 0;
};

// Evaluates params on a whole dataset in chunks of `chunk` examples (bounded scratch:
// a CNN's im2col buffer grows with the chunk).
EvalResult Evaluate(Model& model, const Eigen::VectorXf& params, const Dataset& data,
                    int64_t chunk = 256);

}  // namespace grapevine::learn
