// Softmax cross-entropy over logits (classes × batch), the only training loss.
//
// Numerically stable: each column is shifted by its maximum before exp, and the loss
// uses log-sum-exp. Pure functions, thread-safe.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>

namespace grapevine::learn {

// Mean over the batch of −log softmax(logits)[label]. If dlogits is not null, writes
// d(mean loss)/d(logits) = (softmax − onehot) / batch (resized to logits' shape).
// REQUIRES: labels.size() == logits.cols(), every label in [0, logits.rows()).
float SoftmaxCrossEntropy(const Eigen::MatrixXf& logits, std::span<const int32_t> labels,
                          Eigen::MatrixXf* dlogits);

// Number of columns whose arg-max equals the label (first maximum on ties).
int64_t CountCorrect(const Eigen::MatrixXf& logits, std::span<const int32_t> labels);

}  // namespace grapevine::learn
