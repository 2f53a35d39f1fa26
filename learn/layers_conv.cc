#include "learn/layers_conv.h"

#include <algorithm>

#include "base/check.h"

namespace grapevine::learn {

using Eigen::Map;
using Eigen::MatrixXf;
using Eigen::VectorXf;

Conv2dLayer::Conv2dLayer(const ParamLayout& layout, int weight_index, int bias_index,
                         int in_channels, int kernel, int height, int width, bool relu)
    : in_channels_(in_channels),
      out_channels_(layout.tensor(weight_index).rows),
      kernel_(kernel),
      height_(height),
      width_(width),
      weight_offset_(layout.tensor(weight_index).offset),
      bias_offset_(layout.tensor(bias_index).offset),
      relu_(relu) {
  GV_CHECK(kernel % 2 == 1);
  GV_CHECK(layout.tensor(weight_index).cols == in_channels_ * kernel_ * kernel_);
  GV_CHECK(layout.tensor(bias_index).rows == out_channels_);
}

void Conv2dLayer::Im2Col(const ConstMatrixRef& in) {
  const int64_t pixels = height_ * width_;
  const int64_t batch = in.cols() / pixels;
  const int64_t c = in_channels_;
  const int64_t pad = kernel_ / 2;
  const int64_t rows = kernel_ * kernel_ * c;
  cols_.resize(rows, batch * pixels);
  const int64_t in_stride = in.outerStride();
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < height_; ++h) {
      for (int64_t w = 0; w < width_; ++w) {
        const int64_t j = b * pixels + h * width_ + w;
        float* dst = cols_.data() + j * rows;
        for (int64_t ki = 0; ki < kernel_; ++ki) {
          const int64_t sh = h + ki - pad;
          for (int64_t kj = 0; kj < kernel_; ++kj, dst += c) {
            const int64_t sw = w + kj - pad;
            // Plain loops: c is small (often 1), a memcpy call per entry costs more.
            if (sh < 0 || sh >= height_ || sw < 0 || sw >= width_) {
              for (int64_t i = 0; i < c; ++i) dst[i] = 0.0f;
            } else {
              const float* src = in.data() + (b * pixels + sh * width_ + sw) * in_stride;
              for (int64_t i = 0; i < c; ++i) dst[i] = src[i];
            }
          }
        }
      }
    }
  }
}

void Conv2dLayer::Col2Im(MatrixXf* din) const {
  const int64_t pixels = height_ * width_;
  const int64_t batch = dcols_.cols() / pixels;
  const int64_t c = in_channels_;
  const int64_t pad = kernel_ / 2;
  const int64_t rows = dcols_.rows();
  din->setZero(c, batch * pixels);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < height_; ++h) {
      for (int64_t w = 0; w < width_; ++w) {
        const float* src = dcols_.data() + (b * pixels + h * width_ + w) * rows;
        for (int64_t ki = 0; ki < kernel_; ++ki) {
          const int64_t sh = h + ki - pad;
          for (int64_t kj = 0; kj < kernel_; ++kj, src += c) {
            const int64_t sw = w + kj - pad;
            if (sh < 0 || sh >= height_ || sw < 0 || sw >= width_) continue;
            float* dst = din->data() + (b * pixels + sh * width_ + sw) * c;
            for (int64_t i = 0; i < c; ++i) dst[i] += src[i];
          }
        }
      }
    }
  }
}

void Conv2dLayer::Forward(const float* params, const ConstMatrixRef& in, MatrixXf* out) {
  Run(params, in, relu_, out);
}

void Conv2dLayer::ForwardPreActivation(const float* params, const ConstMatrixRef& in,
                                       MatrixXf* out) {
  Run(params, in, /*relu=*/false, out);
}

void Conv2dLayer::Run(const float* params, const ConstMatrixRef& in, bool relu, MatrixXf* out) {
  GV_CHECK(in.rows() == in_channels_ && in.cols() % (height_ * width_) == 0);
  const int64_t kk = kernel_ * kernel_;
  Map<const MatrixXf> w(params + weight_offset_, out_channels_, in_channels_ * kk);
  Map<const VectorXf> bias(params + bias_offset_, out_channels_);
  weight_kpos_major_.resize(out_channels_, kk * in_channels_);
  for (int64_t ch = 0; ch < in_channels_; ++ch) {
    for (int64_t k = 0; k < kk; ++k) weight_kpos_major_.col(k * in_channels_ + ch) = w.col(ch * kk + k);
  }
  Im2Col(in);
  out->resize(out_channels_, cols_.cols());
  out->noalias() = weight_kpos_major_ * cols_;
  if (relu) {
    *out = (out->colwise() + bias).cwiseMax(0.0f);
  } else {
    out->colwise() += bias;
  }
}

void Conv2dLayer::Backward(const float* params, const ConstMatrixRef& in, const MatrixXf& out,
                           MatrixXf* dout, float* grad, MatrixXf* din) {
  // cols_ and weight_kpos_major_ still hold this input's im2col and weights: Forward ran
  // last on the same input (Model guarantees forward-then-backward order).
  if (relu_) dout->array() *= (out.array() > 0.0f).cast<float>();
  const int64_t kk = kernel_ * kernel_;
  Map<MatrixXf> dw(grad + weight_offset_, out_channels_, in_channels_ * kk);
  Map<VectorXf> db(grad + bias_offset_, out_channels_);
  dweight_kpos_major_.resize(out_channels_, kk * in_channels_);
  dweight_kpos_major_.noalias() = *dout * cols_.transpose();
  for (int64_t ch = 0; ch < in_channels_; ++ch) {
    for (int64_t k = 0; k < kk; ++k) dw.col(ch * kk + k) = dweight_kpos_major_.col(k * in_channels_ + ch);
  }
  db = dout->rowwise().sum();
  if (din != nullptr) {
    dcols_.resize(cols_.rows(), cols_.cols());
    dcols_.noalias() = weight_kpos_major_.transpose() * *dout;
    Col2Im(din);
  }
}

MaxPool2dLayer::MaxPool2dLayer(int channels, int height, int width)
    : channels_(channels),
      height_(height),
      width_(width),
      out_height_(height / 2),
      out_width_(width / 2) {
  GV_CHECK(out_height_ > 0 && out_width_ > 0);
}

void MaxPool2dLayer::Forward(const float*, const ConstMatrixRef& in, MatrixXf* out) {
  const int64_t pixels = height_ * width_;
  GV_CHECK(in.rows() == channels_ && in.cols() % pixels == 0);
  const int64_t batch = in.cols() / pixels;
  const int64_t out_pixels = out_height_ * out_width_;
  out->resize(channels_, batch * out_pixels);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t oh = 0; oh < out_height_; ++oh) {
      for (int64_t ow = 0; ow < out_width_; ++ow) {
        const int64_t s = b * pixels + 2 * oh * width_ + 2 * ow;
        const float* a = in.col(s).data();
        const float* a1 = in.col(s + 1).data();
        const float* a2 = in.col(s + width_).data();
        const float* a3 = in.col(s + width_ + 1).data();
        float* dst = out->col(b * out_pixels + oh * out_width_ + ow).data();
        for (int64_t c = 0; c < channels_; ++c) {
          dst[c] = std::max(std::max(a[c], a1[c]), std::max(a2[c], a3[c]));
        }
      }
    }
  }
}

void MaxPool2dLayer::Backward(const float*, const ConstMatrixRef& in, const MatrixXf& out,
                              MatrixXf* dout, float*, MatrixXf* din) {
  if (din == nullptr) return;
  const int64_t pixels = height_ * width_;
  const int64_t out_pixels = out_height_ * out_width_;
  const int64_t batch = out.cols() / out_pixels;
  din->setZero(channels_, batch * pixels);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t oh = 0; oh < out_height_; ++oh) {
      for (int64_t ow = 0; ow < out_width_; ++ow) {
        const int64_t j = b * out_pixels + oh * out_width_ + ow;
        const int64_t s = b * pixels + 2 * oh * width_ + 2 * ow;
        const int64_t window[4] = {s, s + 1, s + width_, s + width_ + 1};
        for (int64_t c = 0; c < channels_; ++c) {
          const float m = out(c, j);
          // The gradient goes to the first maximum only (ties: row-major first).
          for (int64_t src : window) {
            if (in(c, src) == m) {
              (*din)(c, src) = (*dout)(c, j);
              break;
            }
          }
        }
      }
    }
  }
}

}  // namespace grapevine::learn
