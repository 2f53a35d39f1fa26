// Helpers shared by the DIMAT and weight-matching tests: small models, seeded probe
// data, and random function-preserving permutations of a model.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "learn/model.h"
#include "learn/symmetry.h"
#include "merge/aligned_merge.h"

namespace grapevine::merge::testing {

inline std::unique_ptr<learn::Model> MakeModel(const std::string& spec, learn::Shape shape,
                                              int classes) {
  auto model = learn::ParseModel(spec, shape, classes);
  GV_CHECK_MSG(model.ok(), model.status().ToString().c_str());
  return std::move(model).value();
}

inline std::unique_ptr<learn::Model> SmallMlp() { return MakeModel("mlp:20-32-16-4", {1, 1, 20}, 4); }
inline std::unique_ptr<learn::Model> SmallCnn() {
  return MakeModel("cnn:c4-p-c8-p-d16", {1, 8, 8}, 3);
}

inline Eigen::MatrixXf GaussianProbe(int features, int samples, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n01;
  Eigen::MatrixXf x(features, samples);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = n01(rng);
  return x;
}

// A random permutation per group; `copy` = params with all of them applied.
struct PermutedCopy {
  Eigen::VectorXf params;
  std::vector<std::vector<int64_t>> perms;
};

inline PermutedCopy RandomlyPermuted(const learn::Model& model, const Eigen::VectorXf& params,
                                     uint64_t seed) {
  std::mt19937_64 rng(seed);
  PermutedCopy out{params, {}};
  for (const learn::HiddenGroup& g : model.symmetry().groups) {
    std::vector<int64_t> perm(static_cast<size_t>(g.units));
    std::iota(perm.begin(), perm.end(), int64_t{0});
    std::shuffle(perm.begin(), perm.end(), rng);
    learn::ApplyPermutation(model.layout(), g, perm, &out.params);
    out.perms.push_back(std::move(perm));
  }
  return out;
}

inline std::vector<int64_t> Inverse(const std::vector<int64_t>& perm) {
  std::vector<int64_t> inv(perm.size());
  for (size_t u = 0; u < perm.size(); ++u) inv[static_cast<size_t>(perm[u])] = static_cast<int64_t>(u);
  return inv;
}

}  // namespace grapevine::merge::testing
