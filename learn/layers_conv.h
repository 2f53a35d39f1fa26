// Convolution and pooling layers on image activations (channels × batch·H·W, see
// layers.h).
//
// Conv2dLayer: k×k kernel (k odd), stride 1, zero 'same' padding of k/2, so the output
// keeps H×W. Implemented as im2col + one GEMM over the whole batch. The im2col matrix
// uses a kernel-position-major row order (row kpos·C + c) so each (pixel, kernel
// position) copies C contiguous floats; the weight tensor in the ParamLayout keeps the
// documented channel-major order (column c·k·k + kpos) and is reordered into a small
// private copy per pass (O·C·k·k floats, negligible next to the GEMM).
//
// MaxPool2dLayer: 2×2 windows, stride 2, floor semantics (an odd last row/column is
// dropped, as in PyTorch's default).
//
// Both own scratch buffers: not thread-safe (one Model per thread).
#pragma once

#include "learn/layers.h"

namespace grapevine::learn {

class Conv2dLayer : public Layer {
 public:
  // Input: in_channels × H × W; weight tensor out_channels × in_channels·k·k.
  Conv2dLayer(const ParamLayout& layout, int weight_index, int bias_index, int in_channels,
              int kernel, int height, int width, bool relu);
  void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) override;
  void ForwardPreActivation(const float* params, const ConstMatrixRef& in,
                            Eigen::MatrixXf* out) override;
  void Backward(const float* params, const ConstMatrixRef& in, const Eigen::MatrixXf& out,
                Eigen::MatrixXf* dout, float* grad, Eigen::MatrixXf* din) override;
  bool HasParams() const override { return true; }

 private:
  void Run(const float* params, const ConstMatrixRef& in, bool relu, Eigen::MatrixXf* out);
  void Im2Col(const ConstMatrixRef& in);
  void Col2Im(Eigen::MatrixXf* din) const;

  int64_t in_channels_, out_channels_, kernel_, height_, width_;
  int64_t weight_offset_, bias_offset_;
  bool relu_;
  Eigen::MatrixXf weight_kpos_major_;  // out × (k·k·C), row order of cols_
  Eigen::MatrixXf cols_;               // (k·k·C) × (batch·H·W)
  Eigen::MatrixXf dcols_;
  Eigen::MatrixXf dweight_kpos_major_;
};

class MaxPool2dLayer : public Layer {
 public:
  MaxPool2dLayer(int channels, int height, int width);
  void Forward(const float* params, const ConstMatrixRef& in, Eigen::MatrixXf* out) override;
  void Backward(const float* params, const ConstMatrixRef& in, const Eigen::MatrixXf& out,
                Eigen::MatrixXf* dout, float* grad, Eigen::MatrixXf* din) override;

 private:
  int64_t channels_, height_, width_, out_height_, out_width_;
};

}  // namespace grapevine::learn
