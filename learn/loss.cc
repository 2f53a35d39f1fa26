#include "learn/loss.h"

#include <cmath>

#include "base/check.h"

namespace grapevine::learn {

float SoftmaxCrossEntropy(const Eigen::MatrixXf& logits, std::span<const int32_t> labels,
                          Eigen::MatrixXf* dlogits) {
  const int64_t classes = logits.rows();
  const int64_t batch = logits.cols();
  GV_CHECK(static_cast<int64_t>(labels.size()) == batch && batch > 0);
  if (dlogits != nullptr) dlogits->resize(classes, batch);
  const float inv_batch = 1.0f / static_cast<float>(batch);
  double total = 0.0;
  for (int64_t b = 0; b < batch; ++b) {
    const int32_t label = labels[static_cast<size_t>(b)];
    GV_CHECK(label >= 0 && label < classes);
    const float* z = logits.col(b).data();
    float max_z = z[0];
    for (int64_t k = 1; k < classes; ++k) max_z = std::max(max_z, z[k]);
    float sum = 0.0f;
    for (int64_t k = 0; k < classes; ++k) sum += std::exp(z[k] - max_z);
    const float log_sum = std::log(sum);
    total += static_cast<double>(log_sum + max_z - z[label]);
    if (dlogits != nullptr) {
      float* d = dlogits->col(b).data();
      const float scale = inv_batch / sum;
      for (int64_t k = 0; k < classes; ++k) d[k] = std::exp(z[k] - max_z) * scale;
      d[label] -= inv_batch;
    }
  }
  return static_cast<float>(total / static_cast<double>(batch));
}

int64_t CountCorrect(const Eigen::MatrixXf& logits, std::span<const int32_t> labels) {
  GV_CHECK(static_cast<int64_t>(labels.size()) == logits.cols());
  int64_t correct = 0;
  for (int64_t b = 0; b < logits.cols(); ++b) {
    Eigen::Index arg = 0;
    logits.col(b).maxCoeff(&arg);
    if (arg == labels[static_cast<size_t>(b)]) ++correct;
  }
  return correct;
}

}  // namespace grapevine::learn
