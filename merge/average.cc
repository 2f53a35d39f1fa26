#include "merge/average.h"

#include <cmath>
#include <string>

namespace grapevine::merge {

Status CheckMixingWeights(std::span<const double> weights) {
  if (weights.empty()) return Status::Invalid("weighted average of zero models");
  double sum = 0.0;
  for (size_t j = 0; j < weights.size(); ++j) {
    if (!std::isfinite(weights[j]) || weights[j] < 0.0) {
      return Status::Invalid("mixing weight " + std::to_string(j) + " is " +
                             std::to_string(weights[j]) + "; weights must be finite and >= 0");
    }
    sum += weights[j];
  }
  if (std::abs(sum - 1.0) > kWeightSumTolerance) {
    return Status::Invalid("mixing weights sum to " + std::to_string(sum) + ", expected 1");
  }
  return Status::Ok();
}

Status WeightedAverage(std::span<const Eigen::VectorXf* const> models,
                       std::span<const double> weights, Eigen::VectorXf* out) {
  GV_CHECK(out != nullptr);
  if (models.size() != weights.size()) {
    return Status::Invalid("weighted average: " + std::to_string(models.size()) + " models but " +
                           std::to_string(weights.size()) + " weights");
  }
  GV_RETURN_IF_ERROR(CheckMixingWeights(weights));
  const Eigen::Index n = models[0]->size();
  for (size_t j = 0; j < models.size(); ++j) {
    GV_CHECK(models[j] != nullptr);
    if (models[j]->size() != n) {
      return Status::Invalid("weighted average: model " + std::to_string(j) + " has " +
                             std::to_string(models[j]->size()) + " parameters, expected " +
                             std::to_string(n));
    }
  }
  // Separate accumulator: `out` may alias an input.
  Eigen::VectorXf acc = static_cast<float>(weights[0]) * *models[0];
  for (size_t j = 1; j < models.size(); ++j) acc += static_cast<float>(weights[j]) * *models[j];
  *out = std::move(acc);
  return Status::Ok();
}

}  // namespace grapevine::merge
