// Layers of the training engine: the Layer interface plus the parameter-free and
// dense layers. Convolution and pooling live in layers_conv.h.
//
// Activation layouts (one matrix per layer output, owned by the Model's workspace):
//  - "flat":  features × batch, one column per example.
//  - "image": channels × (batch·H·W), column b·H·W + h·W + w. Every channel of one
//    pixel is contiguous, so pooling and im2col copy whole columns, and this is also
//    the layout DIMAT's activation matching wants (every position is a sample).
// Flatten converts image → flat with feature index c·H·W + h·W + w (param_layout.h);
// Unflatten is its inverse and turns a model input into an image activation.
//
// A layer holds its tensor indices into the ParamLayout but never the parameters:
// Forward/Backward receive the flat parameter vector, so one layer object can run any
// parameter vector of its architecture. Layers may own scratch buffers, so they are
// not thread-safe; a Model (and its layers) is used by one thread at a time.
#pragma once

#include <Eigen/Core>
#include <cstdint>

#include "learn/param_layout.h"

namespace grapevine::learn {

using ConstMatrixRef = Eigen::Ref<const Eigen::MatrixXf>;

class Layer {
 public:
  virtual ~Layer() = default;

  // Writes the output for input `in` into *out (resized when the batch size changes;
  // no allocation otherwise). `params` is the whole flat parameter vector.
  virtual void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) = 0;

  // Given the forward pass's `in` and `out` and the loss gradient w.r.t. the output in
  // *dout (which may be overwritten), overwrites this layer's slice of the flat
  // gradient `grad` and, unless din is null, writes the gradient w.r.t. the input.
  virtual void Backward(const float* params, const ConstMatrixRef& in,
                        const Eigen::MatrixXf& out, Eigen::MatrixXf* dout, float* grad,
                        Eigen::MatrixXf* din) = 0;

  virtual bool HasParams() const { return false; }

  // Like Forward, but a layer with a fused ReLU writes its values before the ReLU
  // (what REPAIR renormalises). Layers without one: the same as Forward.
  virtual void ForwardPreActivation(const float* params, const ConstMatrixRef& in,
                                    Eigen::MatrixXf* out) {
    Forward(params, in, out);
  }
};

// y = W x + b, optionally followed by a fused ReLU. W: out × in, b: out × 1.
class DenseLayer : public Layer {
 public:
  DenseLayer(const ParamLayout& layout, int weight_index, int bias_index, bool relu);
  void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) override;
  void ForwardPreActivation(const float* params, const ConstMatrixRef& in,
                            Eigen::MatrixXf* out) override;
  void Backward(const float* params, const ConstMatrixRef& in, const Eigen::MatrixXf& out,
                Eigen::MatrixXf* dout, float* grad, Eigen::MatrixXf* din) override;
  bool HasParams() const override { return true; }

 private:
  void Run(const float* params, const ConstMatrixRef& in, bool relu, Eigen::MatrixXf* out);

  int64_t in_, out_, weight_offset_, bias_offset_;
  bool relu_;
};

// Elementwise max(x, 0); works on either layout.
class ReluLayer : public Layer {
 public:
  void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) override;
  void Backward(const float* params, const ConstMatrixRef& in, const Eigen::MatrixXf& out,
                Eigen::MatrixXf* dout, float* grad, Eigen::MatrixXf* din) override;
};

// image (C × B·H·W) → flat (C·H·W × B).
class FlattenLayer : public Layer {
 public:
  FlattenLayer(int channels, int height, int width);
  void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) override;
  void Backward(const float* params, const ConstMatrixRef& in, const Eigen::MatrixXf& out,
                Eigen::MatrixXf* dout, float* grad, Eigen::MatrixXf* din) override;

 private:
  int64_t channels_, pixels_;
};

// flat (C·H·W × B) → image (C × B·H·W): how a model input enters a convolution.
class UnflattenLayer : public Layer {
 public:
  UnflattenLayer(int channels, int height, int width);
  void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) override;
  void Backward(const float* params, const ConstMatrixRef& in, const Eigen::MatrixXf& out,
                Eigen::MatrixXf* dout, float* grad, Eigen::MatrixXf* din) override;

 private:
  int64_t channels_, pixels_;
};

}  // namespace grapevine::learn
