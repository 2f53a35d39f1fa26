#include "agent/algorithms/choco_gamma.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "topology/mixing.h"

namespace grapevine::agent::algorithms {

namespace {

struct Graph {
  int n = 0;
  std::vector<std::vector<std::pair<int, double>>> rows;  // neighbours j with w_ij
};

Graph MetropolisGraph(const std::vector<proto::Edge>& edges, proto::NodeId self) {
  std::map<proto::NodeId, int> index{{self, 0}};
  for (const auto& e : edges) {
    index.emplace(e.a, 0);
    index.emplace(e.b, 0);
  }
  int next = 0;
  for (auto& [id, i] : index) i = next++;
  Graph g;
  g.n = next;
  std::vector<std::vector<int>> adj(static_cast<size_t>(g.n));
  for (const auto& e : edges) {
    if (e.a == e.b) continue;
    const int a = index.at(e.a), b = index.at(e.b);
    if (std::find(adj[a].begin(), adj[a].end(), b) != adj[a].end()) continue;
    adj[a].push_back(b);
    adj[b].push_back(a);
  }
  g.rows.resize(static_cast<size_t>(g.n));
  for (int i = 0; i < g.n; ++i) {
    for (int j : adj[i]) {
      g.rows[i].emplace_back(j, topology::MetropolisWeight(adj[i].size(), adj[j].size()));
    }
  }
  return g;
}

// Dimensions per simulated agent: enough entries for the codecs' blocks and k, and a
// bounded total cost on big swarms.
int SimDims(int n) { return std::clamp(8192 / std::max(n, 1), 256, 1024); }

double Simulate(const Graph& g, const merge::CodecSpec& codec, double gamma, uint64_t seed,
                int iterations, int dims) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<Eigen::VectorXf> x(static_cast<size_t>(g.n)), hat(x.size());
  Eigen::VectorXf mean = Eigen::VectorXf::Zero(dims);
  for (auto& v : x) {
    v.resize(dims);
    for (int k = 0; k < dims; ++k) v[k] = normal(rng);
    mean += v;
  }
  mean /= static_cast<float>(g.n);
  auto spread = [&] {
    double s = 0;
    for (const auto& v : x) s += (v - mean).squaredNorm();
    return s;
  };
  const double initial = spread();
  for (auto& h : hat) h = Eigen::VectorXf::Zero(dims);
  const std::vector<size_t> sizes{static_cast<size_t>(dims)};
  Eigen::VectorXf delta(dims), q(dims);
  for (int t = 0; t < iterations; ++t) {
    for (int i = 0; i < g.n; ++i) {
      delta = x[i] - hat[i];
      const auto bytes =
          merge::EncodeModel(codec, {delta.data(), static_cast<size_t>(dims)}, sizes,
                             seed + static_cast<uint64_t>(i), static_cast<uint64_t>(t));
      if (!merge::DecodeModel(codec, bytes, sizes, seed + static_cast<uint64_t>(i),
                              static_cast<uint64_t>(t), {q.data(), static_cast<size_t>(dims)},
                              /*accumulate=*/false)
               .ok()) {
        return std::numeric_limits<double>::infinity();
      }
      hat[i] += q;
    }
    for (int i = 0; i < g.n; ++i) {
      for (const auto& [j, w] : g.rows[i]) x[i] += static_cast<float>(gamma * w) * (hat[j] - hat[i]);
    }
  }
  const double final_spread = spread();
  if (!std::isfinite(final_spread) || initial <= 0) return std::numeric_limits<double>::infinity();
  return final_spread / initial;
}

}  // namespace

double ChocoGossipError(const std::vector<proto::Edge>& edges, proto::NodeId self,
                        const merge::CodecSpec& codec, double gamma, uint64_t seed,
                        int iterations, int dims) {
  return Simulate(MetropolisGraph(edges, self), codec, gamma, seed, iterations, dims);
}

GammaTuning TuneChocoGamma(const std::vector<proto::Edge>& edges, proto::NodeId self,
                           const merge::CodecSpec& codec, uint64_t seed, int iterations) {
  const Graph g = MetropolisGraph(edges, self);
  GammaTuning best;
  best.nodes = g.n;
  best.dims = SimDims(g.n);
  if (g.n < 2) return best;
  best.error = std::numeric_limits<double>::infinity();
  constexpr int kGrid = 20;
  for (int k = 0; k < kGrid; ++k) {
    const double gamma = std::pow(10.0, -3.0 + 3.0 * k / (kGrid - 1));  // logspace(−3, 0, 20)
    const double error = Simulate(g, codec, gamma, seed, iterations, best.dims);
    if (error < best.error) {
      best.error = error;
      best.gamma = gamma;
    }
  }
  if (!std::isfinite(best.error)) best.gamma = 1e-3;  // nothing converged: the most careful
  return best;
}

std::string CheckGammaOption(const std::string& value) {
  const std::string why = NonNegativeNumber(value);
  if (!why.empty()) return why;
  if (std::stod(value) > 1.0) return "must be in [0, 1] (0 = tune at start), not " + value;
  return "";
}

}  // namespace grapevine::agent::algorithms
