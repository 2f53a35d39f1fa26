// PushSum (agent/core/algorithms/push_sum.h): the share/receive arithmetic, and whole
// swarms of PushSum states gossiping synchronously over generated digraphs: consensus on
// the plain average when strongly connected, Σ w = n after every round (also with
// dropped deliveries that are added back), and no consensus when not strongly connected.
#include "agent/core/algorithms/push_sum.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "topology/generators.h"
#include "topology/graph_metrics.h"
#include "topology/topology.h"

namespace grapevine::agent::algorithms {
namespace {

using topology::GeneratorOptions;
using topology::GraphKind;
using topology::Topology;

constexpr int kDim = 6;

Eigen::VectorXf Vec(std::initializer_list<float> v) {
  Eigen::VectorXf x(static_cast<Eigen::Index>(v.size()));
  Eigen::Index i = 0;
  for (float f : v) x[i++] = f;
  return x;
}

Topology Directed(GraphKind kind, int n, double p = -1, uint64_t seed = 1) {
  GeneratorOptions options;
  options.directed = true;
  options.p = p;
  options.seed = seed;
  options.host = "";
  Result<Topology> t = topology::Generate(kind, n, options);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return std::move(t).value();
}

// n distinct vectors, entries uniform in [-10, 10].
std::vector<Eigen::VectorXf> RandomVectors(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(-10.0f, 10.0f);
  std::vector<Eigen::VectorXf> out;
  for (int i = 0; i < n; ++i) {
    Eigen::VectorXf x(kDim);
    for (int k = 0; k < kDim; ++k) x[k] = unit(rng);
    out.push_back(x);
  }
  return out;
}

Eigen::VectorXd Mean(const std::vector<Eigen::VectorXf>& xs) {
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(kDim);
  for (const auto& x : xs) sum += x.cast<double>();
  return sum / static_cast<double>(xs.size());
}

// A swarm of PushSum states on `graph`, one synchronous round at a time: every agent
// shares, then every share is delivered to its out-neighbour or, when `drop` says so,
// added back by its sender.
class Swarm {
 public:
  Swarm(const Topology& graph, const std::vector<Eigen::VectorXf>& initial) : graph_(graph) {
    for (const auto& x : initial) agents_.emplace_back(x);
  }

  template <typename Drop>
  void Round(Drop drop) {
    const int n = graph_.num_nodes();
    std::vector<PushSumShare> shares;
    for (int i = 0; i < n; ++i) {
      shares.push_back(agents_[i].Share(static_cast<int>(graph_.OutNeighbors(i).size())));
    }
    for (int i = 0; i < n; ++i) {
      for (int j : graph_.OutNeighbors(i)) {
        if (drop(i, j)) {
          agents_[i].AddBack(shares[i]);
        } else {
          ASSERT_TRUE(agents_[j].Receive(shares[i]).ok());
        }
      }
    }
  }
  void Round() {
    Round([](int, int) { return false; });
  }

  double TotalWeight() const {
    double w = 0;
    for (const auto& a : agents_) w += a.weight();
    return w;
  }
  Eigen::VectorXd TotalNumerator() const {
    Eigen::VectorXd x = Eigen::VectorXd::Zero(kDim);
    for (const auto& a : agents_) x += a.numerator().cast<double>();
    return x;
  }
  // max_i ‖z_i − target‖_∞
  double MaxDeviation(const Eigen::VectorXd& target) const {
    double worst = 0;
    for (const auto& a : agents_) {
      worst = std::max(worst, (a.Debiased().cast<double>() - target).cwiseAbs().maxCoeff());
    }
    return worst;
  }
  double MaxWeightSkew() const {
    double worst = 0;
    for (const auto& a : agents_) worst = std::max(worst, std::abs(a.weight() - 1.0));
    return worst;
  }
  std::vector<PushSum>& agents() { return agents_; }

 private:
  const Topology& graph_;
  std::vector<PushSum> agents_;
};

// Runs `rounds` rounds, checking after each that the swarm's mass is where it started.
template <typename Drop>
void GossipConserving(Swarm& swarm, int rounds, const Eigen::VectorXd& numerator_sum, int n,
                      Drop drop) {
  for (int r = 0; r < rounds; ++r) {
    swarm.Round(drop);
    ASSERT_NEAR(swarm.TotalWeight(), n, 1e-6) << "after round " << r;
    ASSERT_LT((swarm.TotalNumerator() - numerator_sum).cwiseAbs().maxCoeff(), 1e-3)
        << "after round " << r;
  }
}

TEST(PushSumTest, StartsWithWeightOneAndDebiasesByTheWeight) {
  PushSum p(Vec({3, -6}));
  EXPECT_EQ(p.weight(), 1.0);
  EXPECT_EQ(p.Debiased(), Vec({3, -6}));
  PushSum q(Vec({3, -6}), 0.5);
  EXPECT_EQ(q.Debiased(), Vec({6, -12}));
}

TEST(PushSumTest, ShareKeepsOneOfDPlusOneEqualParts) {
  PushSum p(Vec({3, 9}), 1.5);
  PushSumShare share = p.Share(2);
  EXPECT_DOUBLE_EQ(share.weight, 0.5);
  EXPECT_FLOAT_EQ(share.numerator[0], 1.0f);
  EXPECT_FLOAT_EQ(share.numerator[1], 3.0f);
  EXPECT_DOUBLE_EQ(p.weight(), 0.5);
  EXPECT_EQ(p.numerator(), share.numerator);
  // The de-biased model does not move by sharing.
  EXPECT_FLOAT_EQ(p.Debiased()[1], 6.0f);
  EXPECT_DOUBLE_EQ(PushSumFraction(0), 1.0);
  EXPECT_DOUBLE_EQ(PushSumFraction(3), 0.25);
}

TEST(PushSumTest, ReceiveSumsArrivalsAndAddBackRestoresAShare) {
  PushSum p(Vec({2, 2}));
  PushSumShare share = p.Share(1);  // keeps (1, 1), w 0.5
  ASSERT_TRUE(p.Receive(Vec({4, 0}), 0.25).ok());
  ASSERT_TRUE(p.Receive(PushSumShare{Vec({0, 2}), 0.25}).ok());
  EXPECT_DOUBLE_EQ(p.weight(), 1.0);
  EXPECT_EQ(p.numerator(), Vec({5, 3}));
  p.AddBack(share);
  EXPECT_DOUBLE_EQ(p.weight(), 1.5);
  EXPECT_EQ(p.numerator(), Vec({6, 4}));
}

TEST(PushSumTest, ReceiveRejectsMalformedSharesAndLeavesTheStateAlone) {
  PushSum p(Vec({1, 1}));
  EXPECT_FALSE(p.Receive(Vec({1, 1, 1}), 0.5).ok());
  EXPECT_FALSE(p.Receive(Vec({1, 1}), 0.0).ok());
  EXPECT_FALSE(p.Receive(Vec({1, 1}), -0.5).ok());
  EXPECT_FALSE(p.Receive(Vec({1, 1}), std::nan("")).ok());
  EXPECT_FALSE(p.Receive(Vec({1, std::numeric_limits<float>::infinity()}), 0.5).ok());
  EXPECT_EQ(p.weight(), 1.0);
  EXPECT_EQ(p.numerator(), Vec({1, 1}));
}

TEST(PushSumTest, GradientStepMovesTheNumerator) {
  PushSum p(Vec({1, 2}), 0.5);
  p.ApplyGradientStep(0.5f, Vec({2, -4}));
  EXPECT_EQ(p.numerator(), Vec({0, 4}));
  p.AddToNumerator(Vec({1, 1}));
  EXPECT_EQ(p.numerator(), Vec({1, 5}));
  EXPECT_EQ(p.weight(), 0.5);
}

TEST(PushSumSwarmTest, DirectedRingOf8ReachesTheAverage) {
  const Topology ring = Directed(GraphKind::kRing, 8);
  ASSERT_TRUE(ring.directed());
  ASSERT_EQ(ring.OutNeighbors(7), std::vector<int>{0});
  const auto initial = RandomVectors(8, 11);
  const Eigen::VectorXd mean = Mean(initial);
  Swarm swarm(ring, initial);
  ASSERT_GT(swarm.MaxDeviation(mean), 1.0);
  // ρ = cos(π/8) ≈ 0.924: 300 rounds shrink the disagreement by ~1e-10.
  GossipConserving(swarm, 300, swarm.TotalNumerator(), 8, [](int, int) { return false; });
  EXPECT_LT(swarm.MaxDeviation(mean), 1e-4);
}

TEST(PushSumSwarmTest, RandomStronglyConnectedDigraphReachesThePlainAverage) {
  const Topology graph = Directed(GraphKind::kErdosRenyi, 12, 0.25, 5);
  ASSERT_TRUE(topology::IsConnected(graph));
  // Irregular in/out degrees, so the weights really move away from 1 and the numerators
  // alone would agree on a skewed average: only x / w is the plain mean.
  const auto initial = RandomVectors(12, 23);
  const Eigen::VectorXd mean = Mean(initial);
  Swarm swarm(graph, initial);
  GossipConserving(swarm, 400, swarm.TotalNumerator(), 12, [](int, int) { return false; });
  EXPECT_GT(swarm.MaxWeightSkew(), 0.05);
  EXPECT_LT(swarm.MaxDeviation(mean), 1e-4);
  double numerator_off = 0;
  for (const auto& a : swarm.agents()) {
    numerator_off =
        std::max(numerator_off, (a.numerator().cast<double>() - mean).cwiseAbs().maxCoeff());
  }
  EXPECT_GT(numerator_off, 0.01);
}

TEST(PushSumSwarmTest, DroppedDeliveriesAddedBackConserveMassAndStillConverge) {
  const Topology graph = Directed(GraphKind::kErdosRenyi, 12, 0.25, 5);
  const auto initial = RandomVectors(12, 29);
  const Eigen::VectorXd mean = Mean(initial);
  Swarm swarm(graph, initial);
  std::mt19937 rng(3);
  std::bernoulli_distribution lost(0.3);
  int dropped = 0;
  GossipConserving(swarm, 600, swarm.TotalNumerator(), 12, [&](int, int) {
    bool d = lost(rng);
    dropped += d;
    return d;
  });
  EXPECT_GT(dropped, 100);
  EXPECT_LT(swarm.MaxDeviation(mean), 1e-3);
}

TEST(PushSumSwarmTest, LosingADeliveryWithoutAddingItBackLosesMass) {
  // The counterpart of the test above: what AddBack prevents.
  const Topology ring = Directed(GraphKind::kRing, 8);
  Swarm swarm(ring, RandomVectors(8, 31));
  std::vector<PushSumShare> shares;
  for (int i = 0; i < 8; ++i) shares.push_back(swarm.agents()[i].Share(1));
  for (int i = 1; i < 8; ++i) ASSERT_TRUE(swarm.agents()[(i + 1) % 8].Receive(shares[i]).ok());
  EXPECT_NEAR(swarm.TotalWeight(), 7.5, 1e-12);
}

TEST(PushSumSwarmTest, NotStronglyConnectedDigraphDoesNotReachConsensus) {
  // Two directed 4-rings joined by one edge 3 -> 4: the second ring hears the first, the
  // first never hears the second.
  Topology graph(/*directed=*/true);
  for (int i = 0; i < 8; ++i) graph.FindOrAddNode(std::to_string(i));
  for (int i = 0; i < 4; ++i) {
    graph.AddEdge(i, (i + 1) % 4);
    graph.AddEdge(4 + i, 4 + (i + 1) % 4);
  }
  graph.AddEdge(3, 4);
  ASSERT_FALSE(topology::IsConnected(graph));
  const auto initial = RandomVectors(8, 37);
  const Eigen::VectorXd mean = Mean(initial);
  Swarm swarm(graph, initial);
  GossipConserving(swarm, 400, swarm.TotalNumerator(), 8, [](int, int) { return false; });
  EXPECT_GT(swarm.MaxDeviation(mean), 0.1);
}

TEST(PushSumSwarmTest, GradientStepsOnTheNumeratorFindTheMinimiserOfTheSum) {
  // SGP on f_i(z) = ½‖z − c_i‖²: Σ_i f_i is minimised at the mean of the c_i. With a
  // constant step the agents settle within O(lr) of each other and their mean is the
  // minimiser exactly (a fixed point needs Σ_i ∇f_i(z_i) = 0).
  const Topology graph = Directed(GraphKind::kErdosRenyi, 12, 0.25, 5);
  const auto targets = RandomVectors(12, 41);
  const Eigen::VectorXd minimiser = Mean(targets);
  Swarm swarm(graph, std::vector<Eigen::VectorXf>(12, Eigen::VectorXf::Zero(kDim)));
  const float lr = 0.02f;
  for (int r = 0; r < 1500; ++r) {
    for (int i = 0; i < 12; ++i) {
      PushSum& agent = swarm.agents()[i];
      agent.ApplyGradientStep(lr, agent.Debiased() - targets[i]);
    }
    swarm.Round();
    ASSERT_NEAR(swarm.TotalWeight(), 12, 1e-6);
  }
  Eigen::VectorXd z_mean = Eigen::VectorXd::Zero(kDim);
  for (const auto& a : swarm.agents()) z_mean += a.Debiased().cast<double>() / 12.0;
  EXPECT_LT((z_mean - minimiser).cwiseAbs().maxCoeff(), 1e-3);
  EXPECT_LT(swarm.MaxDeviation(minimiser), 1.0);
}

}  // namespace
}  // namespace grapevine::agent::algorithms
