#include "learn/sampling.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace grapevine::learn {
namespace {

TEST(SamplingTest, FixedRunsLocalStepsEveryRound) {
  auto s = ParseSampling("fixed", SamplingContext(7));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (uint64_t r : {0u, 1u, 99u}) EXPECT_EQ((*s)->Plan(r).steps, 7);
  EXPECT_EQ((*s)->ExamplesInRounds(3, 16), 3 * 7 * 16);
  EXPECT_EQ((*s)->ExamplesInRounds(0, 16), 0);
}

TEST(SamplingTest, UnknownFormsNameTheAllowedSet) {
  for (const char* bad : {"", "ugs:", "Fixed", "fixed:3"}) {
    auto s = ParseSampling(bad, SamplingContext(1));
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("expected fixed"), std::string::npos)
        << s.status().message();
  }
  EXPECT_FALSE(ParseSampling("fixed", SamplingContext(0)).ok());
}

TEST(SamplingTest, EveryFormInTheTableChecks) {
  for (const auto& f : AllSamplingForms()) {
    std::string syntax(f.syntax);
    syntax = syntax.substr(0, syntax.find('['));  // "lds[:ALPHA]" → "lds"
    EXPECT_TRUE(CheckSampling(syntax).ok()) << f.syntax;
  }
  EXPECT_TRUE(CheckSampling("lds:0.1").ok());
  for (const char* bad : {"lds:", "lds:0", "lds:-1", "lds:x", "ugs:2"}) {
    EXPECT_FALSE(CheckSampling(bad).ok()) << bad;
  }
}

// A global schedule for agent `self` over these shards.
std::unique_ptr<GlobalSampling> Global(const std::string& form, std::vector<int64_t> sizes,
                                       int self, int64_t batch_total, int steps = 5,
                                       uint64_t seed = 3) {
  SamplingContext c(steps);
  c.shard_sizes = std::move(sizes);
  c.self = self;
  c.seed = seed;
  c.global_batch = batch_total;
  auto s = ParseSampling(form, c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::unique_ptr<GlobalSampling>(dynamic_cast<GlobalSampling*>(s->release()));
}

// What must hold for ugs and lds alike: every agent derives the same table, a step takes
// B examples (the epoch's last the rest), an epoch uses every shard exactly once, and an
// agent's plan is its column of the table with the step scaled by n·b/B (at most 4).
void CheckTable(const std::string& form) {
  const std::vector<int64_t> sizes = {300, 120, 45, 535};  // unequal, like dirichlet
  const int64_t pooled = 1000, batch = 64;
  std::vector<std::unique_ptr<GlobalSampling>> agents;
  for (int i = 0; i < 4; ++i) agents.push_back(Global(form, sizes, i, batch));
  ASSERT_EQ(agents[0]->steps_per_epoch(), (pooled + batch - 1) / batch);
  for (uint64_t epoch : {0u, 1u, 7u}) {
    const auto table = agents[0]->EpochCounts(epoch);
    ASSERT_EQ(table.size(), 16u);
    std::vector<int64_t> used(4, 0);
    for (size_t k = 0; k < table.size(); ++k) {
      int64_t step = 0;
      for (size_t i = 0; i < 4; ++i) {
        step += table[k][i];
        used[i] += table[k][i];
      }
      EXPECT_EQ(step, k + 1 < table.size() ? batch : pooled - batch * 15) << form << " step " << k;
    }
    EXPECT_EQ(used, sizes) << form << " epoch " << epoch;
    for (int i = 1; i < 4; ++i) EXPECT_EQ(agents[i]->EpochCounts(epoch), table) << form;
  }
  EXPECT_NE(agents[0]->EpochCounts(0), agents[0]->EpochCounts(1)) << form;
  // Round 4 of 5 steps: global steps 20..24 = epoch 1, steps 4..8.
  const auto table = agents[0]->EpochCounts(1);
  for (int i = 0; i < 4; ++i) {
    const RoundPlan plan = agents[i]->Plan(4);
    ASSERT_EQ(plan.steps, 5);
    ASSERT_EQ(plan.per_step.size(), 5u);
    for (size_t s = 0; s < 5; ++s) {
      const int64_t b = table[4 + s][static_cast<size_t>(i)];
      EXPECT_EQ(plan.per_step[s].examples, b);
      EXPECT_FLOAT_EQ(plan.per_step[s].lr_scale, std::min(4.0f, 4.0f * b / 64.0f));
    }
  }
  // Σ over the rounds of one epoch's worth of steps: every example once.
  EXPECT_EQ(agents[3]->ExamplesInRounds(16, 0) , 535 * 5);  // 80 steps = 5 epochs
}

TEST(SamplingTest, UgsAndLdsTablesAgreeSumToTheBatchAndExhaustEveryShard) {
  CheckTable("ugs");
  CheckTable("lds");
  CheckTable("lds:0.05");
}

TEST(SamplingTest, UgsDrawsWithoutReplacementFromThePool) {
  // The first step of an epoch is a multivariate hypergeometric draw of B from the pool:
  // mean B·N_i/N. Over 300 seeds the chi-square statistic against that mean (with the
  // multinomial variance, which is larger) stays below the p = 0.001 quantile for 3
  // degrees of freedom (16.27).
  const std::vector<int64_t> sizes = {300, 120, 45, 535};
  std::vector<double> got(4, 0);
  const int seeds = 300;
  for (int seed = 0; seed < seeds; ++seed) {
    const auto t = Global("ugs", sizes, 0, 64, 5, static_cast<uint64_t>(seed))->EpochCounts(0);
    for (size_t i = 0; i < 4; ++i) got[i] += static_cast<double>(t[0][i]);
  }
  double chi2 = 0;
  for (size_t i = 0; i < 4; ++i) {
    const double want = seeds * 64.0 * static_cast<double>(sizes[i]) / 1000.0;
    chi2 += (got[i] - want) * (got[i] - want) / want;
  }
  EXPECT_LT(chi2, 16.27) << got[0] << " " << got[1] << " " << got[2] << " " << got[3];
}

TEST(SamplingTest, SmallAlphaPutsAStepsWorkOnFewAgents) {
  // Share of a step's examples taken by its busiest agent, over the first half of an
  // epoch (before shards run dry): ugs spreads (≈ the largest shard's share, 0.25 here),
  // lds:0.05 concentrates, lds:1000 is close to ugs.
  const std::vector<int64_t> sizes = {1000, 1000, 1000, 1000};
  auto busiest = [&](const std::string& form) {
    double share = 0;
    int steps = 0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      const auto t = Global(form, sizes, 0, 64, 5, seed)->EpochCounts(0);
      for (size_t k = 0; k < t.size() / 2; ++k) {
        share += static_cast<double>(*std::max_element(t[k].begin(), t[k].end())) / 64.0;
        ++steps;
      }
    }
    return share / steps;
  };
  const double ugs = busiest("ugs"), wide = busiest("lds:1000"), narrow = busiest("lds:0.05");
  EXPECT_LT(ugs, 0.4);
  EXPECT_LT(wide, 0.4);
  EXPECT_GT(narrow, 0.7);
}

TEST(SamplingTest, GlobalFormsNeedTheTableOfShards) {
  auto s = ParseSampling("ugs", SamplingContext(2));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("table of every agent's shard"), std::string::npos);
}

}  // namespace
}  // namespace grapevine::learn
