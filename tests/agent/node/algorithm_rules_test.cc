// Every algorithm run by real Nodes on the in-memory transport and virtual time
// (tests/agent/node/memory_swarm.h), its update rule checked against values computed by
// hand from runs of `local` with the same seeds — same inits, same batches, so the
// local runs give exactly the models each agent trained before it communicated.
// Single-exchange runs (one round, or one step per round) make the result independent
// of thread timing: no agent can be a tick ahead of its neighbours.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <string>
#include <vector>

#include "tests/agent/node/memory_swarm.h"

namespace grapevine::agent {
namespace {

using testing::CompleteEdges;
using testing::RingEdges;
using testing::RunMemorySwarm;
using testing::SwarmResult;

NodeOptions Options(const std::string& algo, int steps, const std::string& init) {
  spdlog::set_level(spdlog::level::warn);
  NodeOptions o;
  o.data = "synthetic:800:10:4";
  o.model = "mlp:10-16-4";
  o.partition = "iid";
  o.algo = algo;
  o.init = init;
  o.rounds = 1;
  o.local_steps = steps;
  o.recipe.batch = 16;
  o.recipe.lr = 0.05;
  o.eval_samples = 100;
  o.algo_options["probe-samples"] = "100";
  o.linger_ms = 200;
  o.seed = 5;
  return o;
}

SwarmResult Swarm(int n, const std::vector<std::pair<int, int>>& edges, const NodeOptions& o,
                  bool directed = false) {
  SwarmResult r = RunMemorySwarm(n, edges, o, directed);
  EXPECT_TRUE(r.finished);
  for (int code : r.exit_codes) EXPECT_EQ(code, 0) << o.algo;
  EXPECT_EQ(r.params.size(), static_cast<size_t>(n));
  return r;
}

// The starting models: one round of `local` whose step is too small to move a float.
SwarmResult StartingModels(int n, const std::vector<std::pair<int, int>>& edges,
                           const std::string& init, bool directed = false) {
  NodeOptions still = Options("local", 1, init);
  still.recipe.lr = 1e-30;
  return Swarm(n, edges, still, directed);
}

// Metropolis weights of a ring of 4 and of K3: every node has degree 2, so each
// neighbour gets 1/3 and the node keeps 1/3.
constexpr double kW = 1.0 / 3.0;

// Σ_j w_ij v_j over self and the neighbours of i on `edges`.
Eigen::VectorXf Mix(const std::vector<Eigen::VectorXf>& v, int i,
                    const std::vector<std::pair<int, int>>& edges) {
  Eigen::VectorXf out = kW * v[static_cast<size_t>(i)];
  for (const auto& [a, b] : edges) {
    if (a == i) out += kW * v[static_cast<size_t>(b)];
    if (b == i) out += kW * v[static_cast<size_t>(a)];
  }
  return out;
}

double MaxDiff(const Eigen::VectorXf& a, const Eigen::VectorXf& b) {
  return (a - b).cwiseAbs().maxCoeff();
}

uint64_t Merged(const SwarmResult& r, size_t node) {
  return r.metrics[node].back()["models_merged"].get<uint64_t>();
}

TEST(AlgorithmRulesTest, LocalIsReproducibleAndNeverCommunicates) {
  const auto edges = RingEdges(4);
  const SwarmResult a = Swarm(4, edges, Options("local", 5, "per-node"));
  const SwarmResult b = Swarm(4, edges, Options("local", 5, "per-node"));
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(MaxDiff(a.params[i], b.params[i]), 0.0) << "node " << i;
    EXPECT_EQ(Merged(a, i), 0u);
    EXPECT_EQ(a.metrics[i].back()["models_received"].get<uint64_t>(), 0u);
  }
  EXPECT_GT(MaxDiff(a.params[0], a.params[1]), 1e-3);
}

// wa: E local steps, then x_i ← Σ_j w_ij x_j over the round's models.
TEST(AlgorithmRulesTest, WaAveragesTheRoundModels) {
  const auto edges = RingEdges(4);
  const SwarmResult local = Swarm(4, edges, Options("local", 5, "per-node"));
  const SwarmResult wa = Swarm(4, edges, Options("wa", 5, "per-node"));
  for (int i = 0; i < 4; ++i) {
    EXPECT_LT(MaxDiff(wa.params[static_cast<size_t>(i)], Mix(local.params, i, edges)), 1e-5)
        << "node " << i;
    EXPECT_EQ(Merged(wa, static_cast<size_t>(i)), 2u);
  }
}

// dimat and wm from one shared init: every model is in frame 0, so the merge is the
// identity alignment — the weighted average — and nothing is repaired.
TEST(AlgorithmRulesTest, DimatAndWmInOneFrameAreTheWeightedAverage) {
  const auto edges = CompleteEdges(3);
  const SwarmResult local = Swarm(3, edges, Options("local", 5, "shared"));
  for (const char* algo : {"dimat", "wm"}) {
    const SwarmResult r = Swarm(3, edges, Options(algo, 5, "shared"));
    for (int i = 0; i < 3; ++i) {
      EXPECT_LT(MaxDiff(r.params[static_cast<size_t>(i)], Mix(local.params, i, edges)), 1e-5)
          << algo << " node " << i;
      EXPECT_EQ(r.metrics[static_cast<size_t>(i)].back()["frame"].get<int64_t>(), 0) << algo;
    }
  }
}

// dimat from per-node inits: the merged model takes the lowest neighbour frame.
TEST(AlgorithmRulesTest, DimatAdoptsTheLowestFrame) {
  const SwarmResult r = Swarm(3, CompleteEdges(3), Options("dimat", 5, "per-node"));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(r.metrics[i].back()["frame"].get<int64_t>(), 0) << "node " << i;
    EXPECT_EQ(Merged(r, i), 2u);
  }
}

// dpsgd, one step: x_i ← Σ_j w_ij (x_j − η g_j).
TEST(AlgorithmRulesTest, DpsgdAdaptsThenCombines) {
  const auto edges = RingEdges(4);
  const SwarmResult local = Swarm(4, edges, Options("local", 1, "per-node"));
  const SwarmResult r = Swarm(4, edges, Options("dpsgd", 1, "per-node"));
  for (int i = 0; i < 4; ++i) {
    EXPECT_LT(MaxDiff(r.params[static_cast<size_t>(i)], Mix(local.params, i, edges)), 1e-5)
        << "node " << i;
  }
}

// cdsgd, one step: x_i ← Σ_j w_ij x_j − η g_i (StartingModels: x before the step).
TEST(AlgorithmRulesTest, CdsgdCombinesThenAdapts) {
  const auto edges = RingEdges(4);
  const SwarmResult init = StartingModels(4, edges, "per-node");
  const SwarmResult local = Swarm(4, edges, Options("local", 1, "per-node"));
  const SwarmResult r = Swarm(4, edges, Options("cdsgd", 1, "per-node"));
  for (int i = 0; i < 4; ++i) {
    const size_t k = static_cast<size_t>(i);
    const Eigen::VectorXf want = Mix(init.params, i, edges) + (local.params[k] - init.params[k]);
    EXPECT_LT(MaxDiff(r.params[k], want), 1e-5) << "node " << i;
  }
}

// cga, one step from a shared init: the consensus point is the init itself, so without
// the neighbours' cross-gradients the result would be the local step; with them the
// step direction changes.
TEST(AlgorithmRulesTest, CgaStepsWithTheNeighboursCrossGradients) {
  const auto edges = CompleteEdges(3);
  const SwarmResult local = Swarm(3, edges, Options("local", 1, "shared"));
  const SwarmResult r = Swarm(3, edges, Options("cga", 1, "shared"));
  // (gradients_answered in the round's metrics line depends on whether an answer was
  // computed during the exchange or in the linger after it, so it is not checked.)
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(Merged(r, i), 2u) << "node " << i;
    EXPECT_GT(MaxDiff(r.params[i], local.params[i]), 1e-6) << "node " << i;
  }
}

// lasgd, two steps, an exchange every step: the first exchange (snapshot s = the model
// after step 1) is applied by delta-add at step 2: x ← x + Σ_j w_ij (x_j − s).
TEST(AlgorithmRulesTest, LasgdAddsTheConsensusCorrection) {
  const auto edges = CompleteEdges(3);
  NodeOptions o = Options("lasgd", 2, "per-node");
  o.algo = "local";
  const SwarmResult two = Swarm(3, edges, o);
  const SwarmResult one = Swarm(3, edges, Options("local", 1, "per-node"));
  o.algo = "lasgd";
  o.algo_options["merge-every"] = "1";
  const SwarmResult r = Swarm(3, edges, o);
  for (int i = 0; i < 3; ++i) {
    const size_t k = static_cast<size_t>(i);
    EXPECT_GE(Merged(r, k), 2u) << "node " << i;
    // Neighbours may already have sent their second snapshot when the first exchange is
    // taken (newest model wins): then the correction uses that one. Either way the
    // result moved away from the purely local two steps towards the neighbours.
    const Eigen::VectorXf want = two.params[k] + Mix(one.params, i, edges) - one.params[k];
    EXPECT_LT((r.params[k] - want).norm(), (two.params[k] - want).norm()) << "node " << i;
  }
}

// sgp, one step on a digraph with unequal out-degrees (0→1, 0→2, 1→2, 2→0): after the
// local step x_j = l_j, w_j = 1, node j keeps (x_j, w_j)/(d_j + 1) and pushes the same
// share to each out-neighbour; the result is the de-biased z_i = Σ x / Σ w of what i
// kept and received. By hand: w = (1/3 + 1/2, 1/3 + 1/2, 1/3 + 1/2 + 1/2).
TEST(AlgorithmRulesTest, SgpPushesSharesAndDebiases) {
  const std::vector<std::pair<int, int>> edges = {{0, 1}, {0, 2}, {1, 2}, {2, 0}};
  const SwarmResult local = Swarm(3, edges, Options("local", 1, "per-node"), true);
  const SwarmResult r = Swarm(3, edges, Options("sgp", 1, "per-node"), true);
  const auto& l = local.params;
  const std::vector<Eigen::VectorXf> want = {
      (l[0] / 3 + l[2] / 2) / (1.0f / 3 + 0.5f),
      (l[0] / 3 + l[1] / 2) / (1.0f / 3 + 0.5f),
      (l[0] / 3 + l[1] / 2 + l[2] / 2) / (1.0f / 3 + 1.0f)};
  const std::vector<double> weights = {1.0 / 3 + 0.5, 1.0 / 3 + 0.5, 1.0 / 3 + 1.0};
  double total = 0;
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_LT(MaxDiff(r.params[i], want[i]), 1e-5) << "node " << i;
    const double w = r.metrics[i].back()["push_weight"].get<double>();
    EXPECT_NEAR(w, weights[i], 1e-6) << "node " << i;
    total += w;
  }
  EXPECT_NEAR(total, 3.0, 1e-6);
}

// sgp without gradient steps (lr 1e-30) on a directed ring of 5 and on a strongly
// connected digraph of 6 with unequal degrees: every de-biased model converges to the
// mean of the initial models, and Σ w = n throughout.
TEST(AlgorithmRulesTest, SgpReachesConsensusOnTheMeanOnDigraphs) {
  const std::vector<std::pair<int, std::vector<std::pair<int, int>>>> graphs = {
      {5, RingEdges(5, /*directed=*/true)},
      {6, {{0, 1}, {1, 2}, {2, 3}, {3, 4}, {4, 5}, {5, 0}, {0, 3}, {2, 5}, {4, 1}, {3, 0}}}};
  for (const auto& [n, edges] : graphs) {
    const SwarmResult init = StartingModels(n, edges, "per-node", true);
    Eigen::VectorXf mean = Eigen::VectorXf::Zero(init.params[0].size());
    for (const auto& p : init.params) mean += p / static_cast<float>(n);
    NodeOptions o = Options("sgp", 1, "per-node");
    o.recipe.lr = 1e-30;
    o.rounds = 60;
    const SwarmResult r = Swarm(n, edges, o, true);
    double total = 0;
    for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
      EXPECT_LT(MaxDiff(r.params[i], mean), 1e-4) << n << " nodes, node " << i;
      total += r.metrics[i].back()["push_weight"].get<double>();
    }
    EXPECT_NEAR(total, static_cast<double>(n), 1e-6) << n << " nodes";
  }
}

// efficient-adam, one step, one group (no `group` attribute: the whole ring; leader 0):
// every member sends Q(u_i), the leader averages and sends Q(avg) back, so all four
// hold one model, bit for bit, and it is x0 + mean(u_i) up to two q8 roundings (each
// off by at most a block's largest magnitude / 127 per entry).
TEST(AlgorithmRulesTest, EfficientAdamGroupHoldsOneModelAndStepsByTheMean) {
  const auto edges = RingEdges(4);
  const SwarmResult init = StartingModels(4, edges, "shared");
  const SwarmResult local = Swarm(4, edges, Options("local", 1, "shared"));
  NodeOptions o = Options("efficient-adam", 1, "shared");
  o.algo_options["compress"] = "q8";
  const SwarmResult r = Swarm(4, edges, o);
  Eigen::VectorXf mean = Eigen::VectorXf::Zero(init.params[0].size());
  double largest = 0;
  for (size_t i = 0; i < 4; ++i) {
    const Eigen::VectorXf u = local.params[i] - init.params[0];
    mean += u / 4.0f;
    largest = std::max(largest, static_cast<double>(u.cwiseAbs().maxCoeff()));
  }
  ASSERT_GT(largest, 1e-4);  // the step moved the model
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(MaxDiff(r.params[i], r.params[0]), 0.0) << "node " << i;
    EXPECT_EQ(r.metrics[i].back()["group_leader"].get<int64_t>(), 0) << "node " << i;
  }
  EXPECT_LT(MaxDiff(r.params[0], init.params[0] + mean), 2.0 * largest / 127 + 1e-6);
  EXPECT_GT(MaxDiff(r.params[0], init.params[0]), largest / 4);
}

// efficient-adam with two groups on a ring of 4 ({0, 1} and {2, 3}, joined by the edges
// 1-2 and 3-0): 0 and 2 lead, each group holds one model, and the leaders' CHOCO gossip
// pulls the two group models together — closer than the same groups without it.
TEST(AlgorithmRulesTest, EfficientAdamLeadersGossipBetweenGroups) {
  const auto edges = RingEdges(4);
  const std::vector<std::string> groups = {"a", "a", "b", "b"};
  NodeOptions o = Options("efficient-adam", 5, "per-node");
  o.rounds = 4;
  o.algo_options["compress"] = "q8";
  const SwarmResult r = RunMemorySwarm(4, edges, o, false, groups);
  ASSERT_TRUE(r.finished);
  for (int code : r.exit_codes) EXPECT_EQ(code, 0);
  EXPECT_EQ(MaxDiff(r.params[0], r.params[1]), 0.0);
  EXPECT_EQ(MaxDiff(r.params[2], r.params[3]), 0.0);
  const std::vector<int64_t> leaders = {0, 0, 2, 2};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.metrics[i].back()["group_leader"].get<int64_t>(), leaders[i]) << "node " << i;
  }
  // The same groups with a consensus step too small to move a float: two independent
  // group models.
  o.algo_options["choco-gamma"] = "1e-12";
  const SwarmResult apart = RunMemorySwarm(4, edges, o, false, groups);
  ASSERT_TRUE(apart.finished);
  EXPECT_LT((r.params[0] - r.params[2]).norm(), 0.5 * (apart.params[0] - apart.params[2]).norm());
}

// daso with its defaults, one round on a ring without groups: the round is in the
// cool-down (blocking every step) and the graph is one group, so the update is D-PSGD's
// exactly — the same step, the same exchange, the same Metropolis row.
TEST(AlgorithmRulesTest, DasoDefaultsInTheBlockingPhaseAreDpsgd) {
  const auto edges = RingEdges(4);
  const SwarmResult d = Swarm(4, edges, Options("dpsgd", 1, "shared"));
  const SwarmResult r = Swarm(4, edges, Options("daso", 1, "shared"));
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(MaxDiff(r.params[i], d.params[i]), 0.0) << "node " << i;
    EXPECT_EQ(r.metrics[i].back()["exchanges_blocking"].get<int64_t>(), 1) << "node " << i;
  }
}

// daso with two groups on a ring of 4 ({0, 1} and {2, 3}, joined by the edges 1-2 and
// 3-0), cycling from the start: every step a blocking average inside the group, every
// gs = 2 steps a snapshot across; the snapshots pull the groups' models together — much
// closer than the same groups without the bridges. (Bytes per tier: tests/integration/daso_test.)
TEST(AlgorithmRulesTest, DasoTiersFollowTheGroups) {
  const auto edges = RingEdges(4);
  const std::vector<std::string> groups = {"a", "a", "b", "b"};
  NodeOptions o = Options("daso", 4, "per-node");
  o.rounds = 3;
  o.algo_options["daso-warmup"] = "0";
  o.algo_options["daso-cooldown"] = "0";
  o.algo_options["daso-gs"] = "2";
  // The staleness bound keeps the groups within 3 steps of each other, so each merges
  // the other's snapshots (without it one group may finish before the other starts).
  o.algo_options["daso-staleness"] = "3";
  const SwarmResult r = RunMemorySwarm(4, edges, o, false, groups);
  ASSERT_TRUE(r.finished);
  for (int code : r.exit_codes) EXPECT_EQ(code, 0);
  for (size_t i = 0; i < 4; ++i) {
    const auto& last = r.metrics[i].back();
    EXPECT_EQ(last["exchanges_local_tier"].get<int64_t>(), 12) << "node " << i;
    EXPECT_EQ(last["snapshots_sent_global_tier"].get<int64_t>(), 6) << "node " << i;
    EXPECT_GE(last["merges_global_tier"].get<int64_t>(), 1) << "node " << i;
    EXPECT_EQ(last["daso_phase"].get<int64_t>(), 1) << "node " << i;
  }
  // The same groups without the bridges: no global tier, two independent group models.
  const SwarmResult apart = RunMemorySwarm(4, {{0, 1}, {2, 3}}, o, false, groups);
  ASSERT_TRUE(apart.finished);
  EXPECT_LT((r.params[0] - r.params[2]).norm(), 0.7 * (apart.params[0] - apart.params[2]).norm());
}

}  // namespace
}  // namespace grapevine::agent
