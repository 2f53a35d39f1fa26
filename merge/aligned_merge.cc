#include "merge/aligned_merge.h"

#include <string>

#include "learn/param_layout.h"
#include "learn/symmetry.h"
#include "merge/average.h"

namespace grapevine::merge {

Status CheckMergeInputs(const learn::ParamLayout& layout, const Eigen::VectorXf& self,
                        double self_weight, std::span<const NeighbourModel> neighbours) {
  if (self.size() != layout.size()) {
    return Status::Invalid("merge: own model has " + std::to_string(self.size()) +
                           " parameters, layout has " + std::to_string(layout.size()));
  }
  std::vector<double> weights{self_weight};
  for (size_t j = 0; j < neighbours.size(); ++j) {
    GV_CHECK(neighbours[j].params != nullptr);
    if (neighbours[j].params->size() != layout.size()) {
      return Status::Invalid("merge: neighbour " + std::to_string(j) + " has " +
                             std::to_string(neighbours[j].params->size()) +
                             " parameters, expected " + std::to_string(layout.size()));
    }
    if (!neighbours[j].params->allFinite()) {
      return Status::Invalid("merge: neighbour " + std::to_string(j) + " has NaN/Inf parameters");
    }
    weights.push_back(neighbours[j].weight);
  }
  return CheckMixingWeights(weights);
}

Alignment IdentityAlignment(const learn::SymmetrySpec& symmetry) {
  Alignment a;
  for (const learn::HiddenGroup& g : symmetry.groups) {
    std::vector<int64_t> perm(static_cast<size_t>(g.units));
    for (int64_t u = 0; u < g.units; ++u) perm[static_cast<size_t>(u)] = u;
    a.perms.push_back(std::move(perm));
    a.scores.push_back(1.0);
  }
  return a;
}

Alignment InvertAlignment(const Alignment& alignment) {
  Alignment inverse = alignment;
  for (size_t g = 0; g < alignment.perms.size(); ++g) {
    const auto& perm = alignment.perms[g];
    auto& inv = inverse.perms[g];
    for (size_t u = 0; u < perm.size(); ++u) {
      inv[static_cast<size_t>(perm[u])] = static_cast<int64_t>(u);
    }
  }
  return inverse;
}

Eigen::VectorXf PermuteToSelf(const learn::ParamLayout& layout,
                              const learn::SymmetrySpec& symmetry,
                              const Eigen::VectorXf& neighbour, const Alignment& alignment) {
  GV_CHECK(alignment.perms.size() == symmetry.groups.size());
  Eigen::VectorXf out = neighbour;
  for (size_t g = 0; g < symmetry.groups.size(); ++g) {
    learn::ApplyPermutation(layout, symmetry.groups[g], alignment.perms[g], &out);
  }
  return out;
}

Eigen::VectorXf MergeAligned(const learn::ParamLayout& layout, const learn::SymmetrySpec& symmetry,
                             const Eigen::VectorXf& self, double self_weight,
                             std::span<const NeighbourModel> neighbours,
                             std::span<const Alignment> alignments) {
  GV_CHECK(alignments.size() == neighbours.size());
  Eigen::VectorXf merged = static_cast<float>(self_weight) * self;
  for (size_t j = 0; j < neighbours.size(); ++j) {
    merged += static_cast<float>(neighbours[j].weight) *
              PermuteToSelf(layout, symmetry, *neighbours[j].params, alignments[j]);
  }
  return merged;
}

}  // namespace grapevine::merge
