#include "learn/synthetic.h"

#include <random>
#include <string>

#include "learn/data.h"
#include "learn/order.h"

namespace grapevine::learn {
namespace {

constexpr uint64_t kSyntheticStream = 0x73796e7468ull;  // "synth"

Dataset Sample(const Eigen::MatrixXf& centres, int64_t n, std::mt19937_64& rng) {
  Dataset out;
  const int classes = static_cast<int>(centres.cols());
  out.num_classes = classes;
  out.shape = Shape{1, 1, static_cast<int>(centres.rows())};
  out.x.resize(centres.rows(), n);
  out.y.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const int label = static_cast<int>(UniformBelow(rng, static_cast<uint64_t>(classes)));
    out.y[static_cast<size_t>(i)] = label;
    for (Eigen::Index f = 0; f < centres.rows(); ++f) {
      out.x(f, i) = centres(f, label) + static_cast<float>(StandardNormal(rng));
    }
  }
  return out;
}

}  // namespace

DataSplit MakeSynthetic(const SyntheticOptions& options, uint64_t seed) {
  GV_CHECK(options.train >= 1 && options.test >= 1 && options.features >= 1 &&
           options.classes >= 2);
  std::mt19937_64 rng(MixSeed(seed, kSyntheticStream));
  Eigen::MatrixXf centres(options.features, options.classes);
  for (Eigen::Index c = 0; c < centres.cols(); ++c) {
    for (Eigen::Index f = 0; f < centres.rows(); ++f) {
      centres(f, c) = static_cast<float>(kSyntheticCentreScale * StandardNormal(rng));
    }
  }
  DataSplit split;
  split.name = "synthetic:" + std::to_string(options.train) + ":" +
               std::to_string(options.features) + ":" + std::to_string(options.classes);
  split.train = Sample(centres, options.train, rng);
  split.test = Sample(centres, options.test, rng);
  StandardizeFeatures(&split.train, &split.test);
  return split;
}

}  // namespace grapevine::learn
