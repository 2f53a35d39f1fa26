// Linear assignment at DIMAT sizes: our shortest-augmenting-path solver against
// Boost.Graph's maximum_weighted_matching (Edmonds/Gabow blossom, general graphs)
// on the complete bipartite graph. Boost.Graph is used here only, never in merge/.
// Each Boost run is also checked against our optimum (counter `agrees`).
#include <benchmark/benchmark.h>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/maximum_weighted_matching.hpp>
#include <cmath>
#include <random>

#include "merge/assignment.h"

namespace {

using grapevine::merge::AssignmentValue;
using grapevine::merge::SolveMaxAssignment;

// Correlation-like matrix: noise in [-1,1] plus a planted strong match, as DIMAT sees.
Eigen::MatrixXd CorrelationLike(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-0.3, 0.3);
  Eigen::MatrixXd m(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) m(i, j) = dist(rng);
  std::vector<int> p(n);
  for (int i = 0; i < n; ++i) p[i] = i;
  std::shuffle(p.begin(), p.end(), rng);
  for (int i = 0; i < n; ++i) m(i, p[i]) += 0.6;
  return m;
}

Eigen::MatrixXd Uniform(int n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  Eigen::MatrixXd m(n, n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) m(i, j) = dist(rng);
  return m;
}

void BM_AssignmentOurs(benchmark::State& state, bool planted) {
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd w = planted ? CorrelationLike(n, 1) : Uniform(n, 1);
  for (auto _ : state) {
    std::vector<int> perm = SolveMaxAssignment(w);
    benchmark::DoNotOptimize(perm.data());
  }
  state.counters["value"] = AssignmentValue(w, SolveMaxAssignment(w));
}

// Integer weights (the blossom algorithm's slack tests are exact only on
// integers): w scaled by 1e6, shifted so every perfect matching outweighs any
// non-perfect one.
std::vector<int> BoostMatching(const Eigen::MatrixXd& w) {
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::undirectedS,
                                      boost::no_property,
                                      boost::property<boost::edge_weight_t, long long>>;
  const int n = static_cast<int>(w.rows());
  const double lo = w.minCoeff();
  const double range = w.maxCoeff() - lo;
  const long long offset = static_cast<long long>(std::llround(range * 1e6)) * n + 1;
  Graph g(2 * n);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      boost::add_edge(i, n + j, offset + std::llround((w(i, j) - lo) * 1e6), g);
  std::vector<boost::graph_traits<Graph>::vertex_descriptor> mate(2 * n);
  boost::maximum_weighted_matching(g, &mate[0]);
  std::vector<int> perm(n, -1);
  for (int i = 0; i < n; ++i) {
    if (mate[i] != boost::graph_traits<Graph>::null_vertex()) perm[i] = static_cast<int>(mate[i]) - n;
  }
  return perm;
}

void BM_AssignmentBoost(benchmark::State& state, bool planted) {
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd w = planted ? CorrelationLike(n, 1) : Uniform(n, 1);
  std::vector<int> perm;
  for (auto _ : state) {
    perm = BoostMatching(w);
    benchmark::DoNotOptimize(perm.data());
  }
  const bool valid = grapevine::merge::IsPermutation(perm, n);
  state.counters["value"] = valid ? AssignmentValue(w, perm) : NAN;
  state.counters["agrees"] =
      valid && std::abs(AssignmentValue(w, perm) - AssignmentValue(w, SolveMaxAssignment(w))) <
                   1e-6 * n;
}

}  // namespace

BENCHMARK_CAPTURE(BM_AssignmentOurs, planted, true)
    ->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AssignmentOurs, uniform, false)
    ->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AssignmentBoost, planted, true)
    ->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK_CAPTURE(BM_AssignmentBoost, uniform, false)
    ->Arg(64)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond)->Iterations(1);

BENCHMARK_MAIN();
