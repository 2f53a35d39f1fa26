// A seeded, learnable synthetic classification set for tests and quick runs.
//
// Gaussian blobs: class c has a centre μ_c ~ N(0, s²·I) (s = kSyntheticCentreScale) in
// `features` dimensions; an example of class c (classes drawn uniformly) is μ_c + N(0, I).
// Train and test come from the same distribution; features are then standardised with
// the training set's per-feature mean and std (as CSV). With the defaults a linear model
// reaches roughly 90 % test accuracy, an MLP slightly more: learnable, not trivial.
//
// Thread-safety: pure function.
#pragma once

#include <cstdint>

#include "learn/dataset.h"

namespace grapevine::learn {

inline constexpr double kSyntheticCentreScale = 0.6;

struct SyntheticOptions {
  int64_t train = 2000;
  int64_t test = 500;
  int features = 20;
  int classes = 4;
};

// The same (options, seed) always gives the same split. REQUIRES: all fields >= 1,
// classes >= 2.
DataSplit MakeSynthetic(const SyntheticOptions& options, uint64_t seed);

}  // namespace grapevine::learn
