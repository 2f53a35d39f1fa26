// Finite-difference helpers shared by the learn/ gradient tests.
#pragma once

#include <gtest/gtest.h>

#include <Eigen/Core>
#include <cmath>
#include <functional>
#include <random>

namespace grapevine::learn::testing {

inline Eigen::MatrixXf RandomMatrix(int64_t rows, int64_t cols, std::mt19937_64& rng,
                                    float scale = 1.0f) {
  std::normal_distribution<float> dist(0.0f, scale);
  Eigen::MatrixXf m(rows, cols);
  for (int64_t i = 0; i < m.size(); ++i) m.data()[i] = dist(rng);
  return m;
}

// Compares analytic[i] with the central difference (f(x+h) − f(x−h)) / 2h of the
// scalar function f at every entry of *x (f reads *x). Float tolerances: the function
// is evaluated in float, so |error| ≤ abs_tol + rel_tol·|analytic|.
inline void ExpectGradientMatches(const std::function<double()>& f, float* x, int64_t n,
                                  const float* analytic, double h = 1e-2,
                                  double abs_tol = 2e-3, double rel_tol = 2e-2) {
  int failures = 0;
  for (int64_t i = 0; i < n; ++i) {
    const float saved = x[i];
    x[i] = saved + static_cast<float>(h);
    const double up = f();
    x[i] = saved - static_cast<float>(h);
    const double down = f();
    x[i] = saved;
    const double numeric = (up - down) / (2 * h);
    const double err = std::abs(numeric - static_cast<double>(analytic[i]));
    if (err > abs_tol + rel_tol * std::abs(static_cast<double>(analytic[i]))) {
      if (++failures <= 5) {
        ADD_FAILURE() << "entry " << i << ": analytic " << analytic[i] << " numeric " << numeric;
      }
    }
  }
  EXPECT_EQ(failures, 0);
}

}  // namespace grapevine::learn::testing
