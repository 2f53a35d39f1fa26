#include "tools/report_data.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tests/tools/report_fixture.h"

namespace grapevine::tools {
namespace {

using fixture::Agent;
using fixture::Line;

TEST(AggregateRoundsTest, MeanMinMaxOverEvaluatingAgents) {
  std::vector<AgentMetrics> agents = {Agent("a", 4, 2, 0.5, 0.1, 100),
                                      Agent("b", 4, 2, 0.3, 0.1, 200),
                                      Agent("c", 4, 2, 0.7, 0.0, 300)};
  auto rounds = AggregateRounds(agents);
  ASSERT_EQ(rounds.size(), 4u);
  EXPECT_EQ(rounds[0].round, 1);
  EXPECT_EQ(rounds[3].round, 4);
  // Round 1 (metrics round 0): nobody evaluated.
  EXPECT_EQ(rounds[0].agents_logged, 3);
  EXPECT_EQ(rounds[0].agents_evaluated, 0);
  EXPECT_TRUE(std::isnan(rounds[0].mean_accuracy));
  // Round 2 (metrics round 1): a 0.6, b 0.4, c 0.7.
  EXPECT_EQ(rounds[1].agents_evaluated, 3);
  EXPECT_NEAR(rounds[1].mean_accuracy, (0.6 + 0.4 + 0.7) / 3, 1e-12);
  EXPECT_NEAR(rounds[1].min_accuracy, 0.4, 1e-12);
  EXPECT_NEAR(rounds[1].max_accuracy, 0.7, 1e-12);
  // Round 4: a 0.8, b 0.6, c 0.7.
  EXPECT_NEAR(rounds[3].mean_accuracy, 0.7, 1e-12);
  EXPECT_NEAR(rounds[3].max_accuracy, 0.8, 1e-12);
  EXPECT_NEAR(rounds[3].mean_loss, 0.5, 1e-12);
}

TEST(AggregateRoundsTest, BytesSentAreDeltasSummedOverAgents) {
  std::vector<AgentMetrics> agents = {Agent("a", 3, 1, 0.5, 0, 100), Agent("b", 3, 1, 0.5, 0, 10)};
  agents[0].records[1].bytes_out = 250;  // a: 100, 250, 300 -> 100, 150, 50
  auto rounds = AggregateRounds(agents);
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_EQ(rounds[0].bytes_sent, 110u);
  EXPECT_EQ(rounds[1].bytes_sent, 160u);
  EXPECT_EQ(rounds[2].bytes_sent, 60u);
}

TEST(AggregateRoundsTest, CounterResetAndRepeatedRound) {
  AgentMetrics a;
  a.node = "a";
  a.records = {Line(0, 100, 0.1), Line(1, 300, 0.2), Line(1, 50, 0.9), Line(2, 80, 0.3)};
  auto rounds = AggregateRounds({a});
  ASSERT_EQ(rounds.size(), 3u);
  EXPECT_EQ(rounds[1].bytes_sent, 250u);  // 200, then a restart that sent 50
  EXPECT_EQ(rounds[1].agents_evaluated, 1);
  EXPECT_NEAR(rounds[1].mean_accuracy, 0.9, 1e-12);  // the later line for round 1 wins
  EXPECT_EQ(rounds[2].bytes_sent, 30u);
  AgentSummary s = SummarizeAgent(a);
  EXPECT_EQ(s.bytes_sent, 380u);
}

TEST(AggregateRoundsTest, AbsentFieldsOfOlderAgents) {
  AgentMetrics a;
  a.node = "a";
  agent::MetricsRecord bare;  // only a round, as far as an old agent's line may go
  bare.round = 1;
  a.records = {Line(0, 100, 0.5), bare};
  auto rounds = AggregateRounds({a});
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[1].agents_logged, 1);
  EXPECT_EQ(rounds[1].agents_evaluated, 0);
  EXPECT_EQ(rounds[1].bytes_sent, 0u);
  EXPECT_TRUE(std::isnan(rounds[1].mean_loss));
  EXPECT_TRUE(AggregateRounds({}).empty());
}

TEST(RoundsToTargetTest, FirstRoundWhoseMeanReachesTarget) {
  std::vector<AgentMetrics> agents = {Agent("a", 10, 1, 0.1, 0.1, 1), Agent("b", 10, 1, 0.3, 0.1, 1)};
  auto rounds = AggregateRounds(agents);
  // Mean at metrics round r: 0.2 + 0.1 r >= 0.6 first at r = 4, i.e. 5 rounds completed.
  EXPECT_EQ(RoundsToTarget(rounds, 0.6), 5);
  EXPECT_EQ(RoundsToTarget(rounds, 0.2), 1);
  EXPECT_FALSE(RoundsToTarget(rounds, 1.5).has_value());
}

TEST(SummarizeAgentTest, SeriesFinalAndCounters) {
  AgentSummary s = SummarizeAgent(Agent("n3", 6, 3, 0.5, 0.05, 1000));
  EXPECT_EQ(s.node, "n3");
  ASSERT_EQ(s.accuracy.size(), 2u);
  EXPECT_EQ(s.accuracy[0].first, 3);
  EXPECT_NEAR(s.accuracy[1].second, 0.75, 1e-12);
  ASSERT_TRUE(s.final_accuracy.has_value());
  EXPECT_NEAR(*s.final_accuracy, 0.75, 1e-12);
  EXPECT_EQ(s.rounds, 6);
  EXPECT_EQ(s.bytes_sent, 6000u);
  EXPECT_EQ(s.bytes_received, 3000u);
  EXPECT_EQ(s.models_merged, 5u);
}

TEST(ComputeTotalsTest, AgentsWithoutEvaluationDoNotCount) {
  std::vector<AgentSummary> agents = {SummarizeAgent(Agent("a", 4, 2, 0.5, 0.1, 10)),
                                      SummarizeAgent(Agent("b", 4, 2, 0.3, 0.1, 10)),
                                      SummarizeAgent(Agent("c", 1, 5, 0.3, 0.1, 10))};
  RunTotals t = ComputeTotals(agents);
  EXPECT_EQ(t.agents_reporting, 2);
  EXPECT_NEAR(*t.final_mean, 0.7, 1e-12);
  EXPECT_NEAR(*t.final_min, 0.6, 1e-12);
  EXPECT_NEAR(*t.final_max, 0.8, 1e-12);
  EXPECT_EQ(t.bytes_sent, 90u);
  EXPECT_EQ(t.rounds, 4);
  EXPECT_FALSE(ComputeTotals({}).final_mean.has_value());
}

int CountLines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

TEST(MetricsCsvTest, OneRowPerAgentPerEvaluation) {
  std::vector<AgentMetrics> agents = {Agent("a", 6, 2, 0.5, 0.01, 10), Agent("b,c", 6, 3, 0.5, 0.01, 10)};
  agents[0].records[1].loss.reset();
  std::string csv = MetricsCsv({{"dimat", &agents}}, false);
  EXPECT_EQ(CountLines(csv), 1 + 3 + 2);
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "node,round,step,t,loss,test_accuracy,bytes_in,bytes_out,models_received,"
            "models_merged,models_rejected,models_stale,models_superseded,neighbours_alive,"
            "wait_seconds,frame,gradients_answered,push_weight,consensus_gamma,updates_rejected,"
            "resyncs,bytes_out_model,bytes_out_compressed,bytes_out_gradient,bytes_out_control,"
            "resumed_from,group_leader,group_members,updates_late,bytes_out_local_tier,"
            "bytes_out_global_tier,neighbour_distance,daso_phase,daso_gs,daso_ls,daso_btw,"
            "daso_neighbourhood_loss,exchanges_blocking,exchanges_local_tier,"
            "snapshots_sent_global_tier,merges_global_tier,snapshots_stale,staleness_waits,"
            "slowdown");
  EXPECT_NE(csv.find("\na,1,100,1,,0.51,10,20,,1,0,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\n"), std::string::npos) << csv;
  EXPECT_NE(csv.find("\n\"b,c\",2,"), std::string::npos);

  std::string with_run = MetricsCsv({{"dimat", &agents}, {"wa", &agents}}, true);
  EXPECT_EQ(CountLines(with_run), 1 + 2 * 5);
  EXPECT_EQ(with_run.rfind("run,node,", 0), 0u);
  EXPECT_NE(with_run.find("\nwa,a,1,"), std::string::npos);
}

}  // namespace
}  // namespace grapevine::tools
