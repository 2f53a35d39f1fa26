#include "learn/layers.h"

#include "base/check.h"

namespace grapevine::learn {

using Eigen::Map;
using Eigen::MatrixXf;
using Eigen::VectorXf;

DenseLayer::DenseLayer(const ParamLayout& layout, int weight_index, int bias_index, bool relu)
    : in_(layout.tensor(weight_index).cols),
      out_(layout.tensor(weight_index).rows),
      weight_offset_(layout.tensor(weight_index).offset),
      bias_offset_(layout.tensor(bias_index).offset),
      relu_(relu) {
  GV_CHECK(layout.tensor(bias_index).rows == out_ && layout.tensor(bias_index).cols == 1);
}

void DenseLayer::Forward(const float* params, const ConstMatrixRef& in, MatrixXf* out) {
  Run(params, in, relu_, out);
}

void DenseLayer::ForwardPreActivation(const float* params, const ConstMatrixRef& in,
                                      MatrixXf* out) {
  Run(params, in, /*relu=*/false, out);
}

void DenseLayer::Run(const float* params, const ConstMatrixRef& in, bool relu, MatrixXf* out) {
  GV_CHECK(in.rows() == in_);
  Map<const MatrixXf> w(params + weight_offset_, out_, in_);
  Map<const VectorXf> b(params + bias_offset_, out_);
  out->resize(out_, in.cols());
  out->noalias() = w * in;
  // One fused pass for bias + activation after the GEMM.
  if (relu) {
    *out = (out->colwise() + b).cwiseMax(0.0f);
  } else {
    out->colwise() += b;
  }
}

void DenseLayer::Backward(const float* params, const ConstMatrixRef& in, const MatrixXf& out,
                          MatrixXf* dout, float* grad, MatrixXf* din) {
  if (relu_) dout->array() *= (out.array() > 0.0f).cast<float>();
  Map<MatrixXf> dw(grad + weight_offset_, out_, in_);
  Map<VectorXf> db(grad + bias_offset_, out_);
  dw.noalias() = *dout * in.transpose();
  db = dout->rowwise().sum();
  if (din != nullptr) {
    Map<const MatrixXf> w(params + weight_offset_, out_, in_);
    din->resize(in_, dout->cols());
    din->noalias() = w.transpose() * *dout;
  }
}

void ReluLayer::Forward(const float*, const ConstMatrixRef& in, MatrixXf* out) {
  out->resize(in.rows(), in.cols());
  for (int64_t j = 0; j < in.cols(); ++j) {
    const float* src = in.col(j).data();
    float* dst = out->col(j).data();
    for (int64_t i = 0; i < in.rows(); ++i) dst[i] = src[i] > 0.0f ? src[i] : 0.0f;
  }
}

void ReluLayer::Backward(const float*, const ConstMatrixRef& in, const MatrixXf&,
                         MatrixXf* dout, float*, MatrixXf* din) {
  if (din == nullptr) return;
  *din = dout->cwiseProduct((in.array() > 0.0f).cast<float>().matrix());
}

FlattenLayer::FlattenLayer(int channels, int height, int width)
    : channels_(channels), pixels_(static_cast<int64_t>(height) * width) {}

void FlattenLayer::Forward(const float*, const ConstMatrixRef& in, MatrixXf* out) {
  GV_CHECK(in.rows() == channels_ && in.cols() % pixels_ == 0);
  const int64_t batch = in.cols() / pixels_;
  out->resize(channels_ * pixels_, batch);
  for (int64_t b = 0; b < batch; ++b) {
    Map<MatrixXf>(out->col(b).data(), pixels_, channels_) =
        in.middleCols(b * pixels_, pixels_).transpose();
  }
}

void FlattenLayer::Backward(const float*, const ConstMatrixRef&, const MatrixXf&,
                            MatrixXf* dout, float*, MatrixXf* din) {
  if (din == nullptr) return;
  const int64_t batch = dout->cols();
  din->resize(channels_, batch * pixels_);
  for (int64_t b = 0; b < batch; ++b) {
    din->middleCols(b * pixels_, pixels_) =
        Map<const MatrixXf>(dout->col(b).data(), pixels_, channels_).transpose();
  }
}

UnflattenLayer::UnflattenLayer(int channels, int height, int width)
    : channels_(channels), pixels_(static_cast<int64_t>(height) * width) {}

void UnflattenLayer::Forward(const float*, const ConstMatrixRef& in, MatrixXf* out) {
  GV_CHECK(in.rows() == channels_ * pixels_);
  const int64_t batch = in.cols();
  out->resize(channels_, batch * pixels_);
  for (int64_t b = 0; b < batch; ++b) {
    out->middleCols(b * pixels_, pixels_) =
        Map<const MatrixXf>(in.col(b).data(), pixels_, channels_).transpose();
  }
}

void UnflattenLayer::Backward(const float*, const ConstMatrixRef&, const MatrixXf&,
                              MatrixXf* dout, float*, MatrixXf* din) {
  if (din == nullptr) return;
  const int64_t batch = dout->cols() / pixels_;
  din->resize(channels_ * pixels_, batch);
  for (int64_t b = 0; b < batch; ++b) {
    Map<MatrixXf>(din->col(b).data(), pixels_, channels_) =
        dout->middleCols(b * pixels_, pixels_).transpose();
  }
}

}  // namespace grapevine::learn
