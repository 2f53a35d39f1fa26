// Swarms on the multi-host testbed (tests/testbed/testbed.h, docs/testbed.md): one real
// `grapevine agent` per emulated host, each on its own address. Issue 13's scenarios:
// 8 hosts train as on loopback; a 4 | 4 partition for 20 s and its heal; a host cut off
// mid-exchange; a 50 Mbit/s link between two groups. Each prints its figures.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "agent/metrics_record.h"
#include "tests/integration/harness.h"
#include "tests/testbed/testbed.h"
#include "tools/run_summary.h"
#include "topology/generators.h"

namespace grapevine::testbed {
namespace {

using integration::milliseconds;
using integration::seconds;
using integration::WaitUntil;
using Clock = std::chrono::steady_clock;

using integration::kFashionMnist;
using integration::SecondsSince;
constexpr int kPort = 47000;  // every host has its own address, so one port for all

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class TestbedSwarmTest : public integration::IntegrationTest {
 protected:
  // Empty on success, else why the testbed cannot run here (the test skips).
  std::string Up(topology::Topology topo, TestbedOptions options) {
    if (!std::filesystem::exists(kFashionMnist)) return std::string(kFashionMnist) + " missing";
    auto tb = Testbed::CreateFor(topo, std::move(options));
    if (!tb.ok()) {
      if (tb.status().code() == StatusCode::kUnavailable) return tb.status().message();
      ADD_FAILURE() << tb.status().message();
      return "";
    }
    tb_ = std::move(*tb);
    topo_ = std::move(topo);
    file_ = dir() + "/testbed.dot";
    integration::WriteFile(file_, tb_->TopologyDot(topo_, kPort));
    return "";
  }

  void StartAgents(const std::vector<std::string>& flags) {
    ASSERT_NE(tb_, nullptr);
    for (int i = 0; i < topo_.num_nodes(); ++i) {
      agents_.push_back(&StartArgv(
          "agent" + std::to_string(i),
          tb_->Wrap(i, Concat({integration::GrapevineBin(), "agent", "--topology", file_, "--node",
                               topo_.node(i).name, "--metrics", Metrics(i)},
                              flags))));
    }
  }

  std::string Metrics(int i) const { return dir() + "/" + std::to_string(i) + ".jsonl"; }
  std::vector<agent::MetricsRecord> Records(int i) const {
    auto f = agent::ReadMetricsFile(Metrics(i));
    return f.ok() ? f->records : std::vector<agent::MetricsRecord>{};
  }
  int Rounds(int i) const { return static_cast<int>(Records(i).size()); }
  bool AllHaveRounds(int n) const {
    for (int i = 0; i < static_cast<int>(agents_.size()); ++i) {
      if (Rounds(i) < n) return false;
    }
    return true;
  }

  // `grapevine topo live` run on host `from` against host `of`.
  std::optional<nlohmann::json> LiveFrom(int from, int of) {
    integration::RunResult r = RunArgv(
        tb_->Wrap(from, {integration::GrapevineBin(), "topo", "live",
                         tb_->Address(of) + ":" + std::to_string(kPort), "--json", "--timeout-ms",
                         "1000"}),
        seconds(20));
    if (r.exit_code != 0) return std::nullopt;
    auto j = nlohmann::json::parse(r.output, nullptr, false);
    if (j.is_discarded()) return std::nullopt;
    return j;
  }
  // The state host `of` holds for node `node` ("" when unknown).
  std::string StateOf(const nlohmann::json& live, int node) {
    const std::string addr = tb_->Address(node) + ":" + std::to_string(kPort);
    auto n = integration::NodeByAddr(live, addr);
    return n.is_object() ? n.value("state", "") : "";
  }
  int AliveInView(int host) {
    auto live = LiveFrom(host, host);
    return live ? integration::CountInState(*live, "alive") : -1;
  }

  void ExpectAllRunning() {
    for (size_t i = 0; i < agents_.size(); ++i) {
      EXPECT_TRUE(agents_[i]->Running()) << "agent " << i << " exited:\n" << agents_[i]->Log();
    }
  }

  std::unique_ptr<Testbed> tb_;
  topology::Topology topo_;
  std::string file_;
  std::vector<integration::Process*> agents_;
};

#define UP_OR_SKIP(topo, options)                        \
  do {                                                   \
    const std::string why = Up(topo, options);           \
    if (!why.empty()) GTEST_SKIP() << why;               \
    ASSERT_NE(tb_, nullptr);                             \
  } while (0)

topology::Topology Ring(int n) {
  topology::GeneratorOptions g;
  g.host.clear();
  auto t = topology::Generate(topology::GraphKind::kRing, n, g);
  EXPECT_TRUE(t.ok());
  return *t;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double MeanFinalAccuracy(const std::vector<std::vector<agent::MetricsRecord>>& all) {
  double sum = 0;
  int n = 0;
  for (const auto& records : all) {
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      if (it->test_accuracy) {
        sum += *it->test_accuracy;
        ++n;
        break;
      }
    }
  }
  return n == 0 ? -1 : sum / n;
}

// 8 hosts on a ring train to >= 85 % (IID), as the same run on loopback does.
TEST_F(TestbedSwarmTest, EightHostsOnARingTrainAsOnLoopback) {
  UP_OR_SKIP(Ring(8), TestbedOptions{});
  const std::vector<std::string> flags = {"--algo", "wa", "--rounds", "12", "--local-steps", "100",
                                          "--eval-samples", "2000", "--seed", "1"};
  const auto start = Clock::now();
  StartAgents(flags);
  for (size_t i = 0; i < agents_.size(); ++i) {
    EXPECT_EQ(agents_[i]->Wait(seconds(150)), 0) << agents_[i]->Log();
  }
  const double testbed_wall = SecondsSince(start);
  std::vector<std::vector<agent::MetricsRecord>> all;
  for (int i = 0; i < 8; ++i) all.push_back(Records(i));
  const double testbed_acc = MeanFinalAccuracy(all);

  // The same swarm on 127.0.0.1, started by launch.
  std::vector<int> ports;
  for (int i = 0; i < 8; ++i) ports.push_back(integration::FreePort());
  const std::string loop = WriteRing("loopback.dot", ports);
  const auto loop_start = Clock::now();
  integration::RunResult r =
      Run(Concat({"launch", loop, "--out", dir() + "/loopback"}, flags), seconds(150));
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  const double loop_wall = SecondsSince(loop_start);
  auto summary = nlohmann::json::parse(integration::ReadFileOrEmpty(dir() + "/loopback/summary.json"),
                                       nullptr, false);
  ASSERT_TRUE(summary.is_object());
  const double loop_acc = summary["final"]["mean_accuracy"].get<double>();
  std::printf("[ figures ] ring of 8, wa, 12 x 100 steps: testbed %.4f in %.1f s, loopback %.4f "
              "in %.1f s\n", testbed_acc, testbed_wall, loop_acc, loop_wall);
  EXPECT_GE(testbed_acc, 0.85);
  EXPECT_NEAR(testbed_acc, loop_acc, 0.02);
}

// 4 | 4 for 20 s, then heal: both sides train through the cut, each marks the other
// dead; after the heal every view has 8 alive within 15 s and the models mix again.
TEST_F(TestbedSwarmTest, PartitionForTwentySecondsThenHeal) {
  UP_OR_SKIP(Ring(8), TestbedOptions{});
  StartAgents({"--algo", "wa", "--rounds", "100000", "--local-steps", "20", "--eval-every", "5",
               "--eval-samples", "500", "--seed", "3"});
  ASSERT_TRUE(WaitUntil([&] { return AllHaveRounds(5); }, seconds(60))) << "the swarm did not start";
  const std::vector<int> left = {0, 1, 2, 3};
  std::vector<int> at_cut;
  for (int i = 0; i < 8; ++i) at_cut.push_back(Rounds(i));
  const auto cut = Clock::now();
  ASSERT_TRUE(tb_->Partition(left).ok());

  // Each side declares the other dead.
  auto other_side_dead = [&](int from, int first_other) {
    auto live = LiveFrom(from, from);
    if (!live) return false;
    for (int k = 0; k < 4; ++k) {
      if (StateOf(*live, first_other + k) != "dead") return false;
    }
    return true;
  };
  ASSERT_TRUE(WaitUntil([&] { return other_side_dead(0, 4) && other_side_dead(5, 0); }, seconds(19)))
      << "the sides did not mark each other dead";
  const double dead_after = SecondsSince(cut);
  std::this_thread::sleep_for(std::chrono::duration<double>(std::max(0.0, 20.0 - SecondsSince(cut))));
  ExpectAllRunning();
  std::vector<int> at_heal;
  for (int i = 0; i < 8; ++i) {
    at_heal.push_back(Rounds(i));
    EXPECT_GE(at_heal[i] - at_cut[i], 10) << "agent " << i << " stalled during the partition";
  }
  const auto heal = Clock::now();
  ASSERT_TRUE(tb_->Heal().ok());
  const bool converged = WaitUntil([&] { return AliveInView(0) == 8 && AliveInView(4) == 8; },
                                   seconds(15));
  const double converged_after = SecondsSince(heal);
  EXPECT_TRUE(converged) << "views: node 0 sees " << AliveInView(0) << " alive, node 4 sees "
                         << AliveInView(4);
  std::this_thread::sleep_for(seconds(10));
  ExpectAllRunning();

  // Models mix again: the boundary agents' distance to their neighbours jumps when the
  // other side's models first arrive and falls as they are merged.
  auto distances = [&](int node, int from, int to) {
    std::vector<double> d;
    auto records = Records(node);
    for (int k = from; k < std::min<int>(to, static_cast<int>(records.size())); ++k) {
      if (records[static_cast<size_t>(k)].neighbour_distance) d.push_back(*records[static_cast<size_t>(k)].neighbour_distance);
    }
    return d;
  };
  for (int node : {3, 4, 7, 0}) {
    const auto during = distances(node, at_cut[node] + 3, at_heal[node]);
    const auto after = distances(node, at_heal[node], 1 << 30);
    ASSERT_FALSE(during.empty());
    ASSERT_GE(after.size(), 6u) << "node " << node;
    // The floor inside a side (local steps between merges), the jump when the other side's
    // model first arrives, and the floor again at the end.
    const double floor = Median(during);
    const double peak = *std::max_element(after.begin(), after.end());
    const double end = Median(std::vector<double>(after.end() - 5, after.end()));
    std::printf("[ figures ] node %d neighbour distance: median %.3f during the cut, %.3f peak "
                "after the heal, median %.3f over the last 5 rounds\n", node, floor, peak, end);
    EXPECT_GT(peak, 1.5 * floor) << "node " << node << ": the other side's models never arrived";
    // Mixed again: the jump is over — the last rounds are back within 1.5x the floor
    // inside a side (which the peak exceeded). Not "end < 0.6 x peak": a boundary agent
    // whose first cross-side model arrived late had a low peak (3.3 against a floor of
    // 1.9, end 2.2) on a loaded machine, and mixed as well as the others.
    EXPECT_LT(end, peak) << "node " << node << ": models did not mix after the heal";
    EXPECT_LE(end, 1.5 * floor) << "node " << node << ": models did not mix after the heal";
  }
  std::printf("[ figures ] partition 4 | 4: other side dead after %.1f s; 8 alive in both views "
              "%.1f s after the heal\n", dead_after, converged_after);
}

// A host's link is cut mid-run: its neighbours go on within the adaptive deadline (never
// waiting longer than --deadline-max-ms for it), the cut host trains alone, and it is a
// member again after the link comes back. A joiner that tries to join through the cut
// host meanwhile keeps trying and gets in once it is back.
TEST_F(TestbedSwarmTest, HostCutOffMidExchangeDoesNotStallItsNeighbours) {
  TestbedOptions spare;
  spare.hosts = 5;  // host 4: the joiner's
  {
    auto tb = Testbed::Create(spare);
    if (!tb.ok() && tb.status().code() == StatusCode::kUnavailable) GTEST_SKIP() << tb.status().message();
    ASSERT_TRUE(tb.ok()) << tb.status().message();
    tb_ = std::move(*tb);
  }
  if (!std::filesystem::exists(kFashionMnist)) GTEST_SKIP() << kFashionMnist << " missing";
  topo_ = Ring(4);
  file_ = dir() + "/testbed.dot";
  integration::WriteFile(file_, tb_->TopologyDot(topo_, kPort));
  StartAgents({"--algo", "wa", "--rounds", "100000", "--local-steps", "20", "--eval-every", "5",
               "--eval-samples", "500", "--deadline-max-ms", "2000", "--seed", "5"});
  ASSERT_TRUE(WaitUntil([&] { return AllHaveRounds(8); }, seconds(60))) << "the swarm did not start";
  auto round_times = [&](int node) {
    std::vector<double> t;
    for (const auto& r : Records(node)) t.push_back(r.t.value_or(0));
    return t;
  };
  // Typical round time before the cut.
  auto before = round_times(1);
  std::vector<double> gaps;
  for (size_t k = 1; k < before.size(); ++k) gaps.push_back(before[k] - before[k - 1]);
  std::sort(gaps.begin(), gaps.end());
  const double typical = gaps[gaps.size() / 2];
  std::vector<int> at_cut = {Rounds(0), Rounds(1), Rounds(2), Rounds(3)};
  ASSERT_TRUE(tb_->Cut(2).ok());
  // `topo live` asks every member its view names, host 2 too (still alive there for a
  // few seconds): a member whose packets vanish costs its --timeout-ms (1 s here), not
  // the kernel's connect retries (over a minute before the fix).
  const auto asked = Clock::now();
  auto live = LiveFrom(0, 0);
  const double live_seconds = SecondsSince(asked);
  ASSERT_TRUE(live.has_value());
  EXPECT_EQ(StateOf(*live, 2), "alive") << "asked too late: host 2 is no longer in the view";
  EXPECT_LT(live_seconds, 5.0);
  auto& joiner = StartArgv(
      "joiner", tb_->Wrap(4, {integration::GrapevineBin(), "agent", "--join",
                              tb_->Address(2) + ":" + std::to_string(kPort), "--listen",
                              tb_->Address(4) + ":" + std::to_string(kPort), "--metrics",
                              dir() + "/joiner.jsonl", "--rounds", "100000", "--local-steps", "20",
                              "--eval-every", "5", "--eval-samples", "500"}));
  std::this_thread::sleep_for(seconds(10));
  EXPECT_TRUE(joiner.Running()) << joiner.Log();
  EXPECT_NE(joiner.Log().find("trying again"), std::string::npos) << joiner.Log();
  ExpectAllRunning();
  double worst = 0;
  for (int node : {1, 3}) {
    auto t = round_times(node);
    ASSERT_GE(static_cast<int>(t.size()), at_cut[node] + 3) << "node " << node << " stalled";
    for (size_t k = static_cast<size_t>(at_cut[node]); k < t.size(); ++k) worst = std::max(worst, t[k] - t[k - 1]);
  }
  EXPECT_GE(Rounds(2) - at_cut[2], 3) << "the cut host stopped training";

  std::printf("[ figures ] host 2 cut: its neighbours' longest round %.2f s (typical %.2f s, "
              "deadline cap 2.00 s); topo live from node 0 answered in %.2f s\n", worst, typical,
              live_seconds);
  EXPECT_LT(worst, 2.0 + 3 * typical + 0.5);
  const auto restored = Clock::now();
  ASSERT_TRUE(tb_->Restore(2).ok());
  EXPECT_TRUE(WaitUntil([&] { return AliveInView(0) == 5 && AliveInView(2) == 5; }, seconds(20)))
      << "node 0 sees " << AliveInView(0) << " alive, node 2 " << AliveInView(2) << "\n"
      << joiner.Log();
  std::printf("[ figures ] host 2 restored: the joiner that waited for it and host 2 are members "
              "in its and node 0's view after %.1f s\n", SecondsSince(restored));
  EXPECT_TRUE(joiner.Running()) << joiner.Log();
}

// Seconds since midnight of a log line's "[HH:MM:SS.mmm]" stamp, or -1.
double LogTime(const std::string& line) {
  int h = 0, m = 0, s = 0, ms = 0;
  if (std::sscanf(line.c_str(), "[%d:%d:%d.%d]", &h, &m, &s, &ms) != 4) return -1;
  return h * 3600.0 + m * 60.0 + s + ms / 1000.0;
}

// --sync waits for every live neighbour's model of the round, with no deadline: a cut
// neighbour blocks the round until the failure detector declares it dead, and that
// declaration must end the wait at once (issue 16: below one probe period, 1 s).
TEST_F(TestbedSwarmTest, DeathOfANeighbourEndsASyncWaitAtOnce) {
  UP_OR_SKIP(Ring(4), TestbedOptions{});
  StartAgents({"--algo", "wa", "--sync", "--rounds", "100000", "--local-steps", "20",
               "--eval-every", "1", "--eval-samples", "200", "--seed", "11"});
  ASSERT_TRUE(WaitUntil([&] { return AllHaveRounds(5); }, seconds(60))) << "the swarm did not start";
  ASSERT_TRUE(tb_->Cut(2).ok());
  const std::string dead_line = "member 2: member_dead";
  ASSERT_TRUE(WaitUntil([&] { return agents_[1]->Log().find(dead_line) != std::string::npos; },
                        seconds(30)))
      << "node 1 never declared node 2 dead";
  std::this_thread::sleep_for(seconds(2));
  // Node 1's log: the last round before the death, the death, the first round after.
  std::istringstream log(agents_[1]->Log());
  double before = -1, death = -1, after = -1;
  for (std::string line; std::getline(log, line);) {
    const bool round = line.find("] round ") != std::string::npos;
    if (death < 0 && round) before = LogTime(line);
    if (death < 0 && line.find(dead_line) != std::string::npos) death = LogTime(line);
    if (death >= 0 && after < 0 && round) after = LogTime(line);
  }
  ASSERT_GE(death, 0);
  ASSERT_GE(after, 0) << "no round after the death";
  std::printf("[ figures ] sync ring of 4, host 2 cut: node 1 blocked %.2f s until it declared "
              "node 2 dead, next round %.3f s after the death\n", death - before, after - death);
  EXPECT_GT(death - before, 1.0) << "node 1 was not waiting for node 2";
  EXPECT_LT(after - death, 1.0);
}

// Two groups of two behind 50 Mbit/s uplinks, 1 Gbit/s inside: the run reports bytes per
// tier, and its wall time is what the bytes between the groups and the rate predict.
TEST_F(TestbedSwarmTest, FiftyMbitBetweenGroupsSetsTheWallTime) {
  topology::Topology topo = Ring(4);
  const char* groups[] = {"a", "a", "b", "b"};
  for (int i = 0; i < 4; ++i) topo.mutable_node(i).group = groups[i];
  TestbedOptions o;
  o.host_rate = "1gbit";
  o.uplink_rate = "50mbit";
  UP_OR_SKIP(topo, o);
  StartAgents({"--algo", "wa", "--sync", "--rounds", "25", "--local-steps", "5", "--eval-every",
               "5", "--eval-samples", "500", "--seed", "9"});
  for (size_t i = 0; i < agents_.size(); ++i) {
    EXPECT_EQ(agents_[i]->Wait(seconds(150)), 0) << agents_[i]->Log();
  }
  // Between the first and the last round line: bytes each group sent to the other.
  double up[2] = {0, 0};
  double wall = 0;
  std::vector<tools::AgentMetrics> agents;
  for (int i = 0; i < 4; ++i) {
    auto records = Records(i);
    ASSERT_GE(records.size(), 20u);
    const auto& first = records.front();
    const auto& last = records.back();
    ASSERT_TRUE(last.bytes_out_global_tier.has_value() && last.bytes_out_local_tier.has_value());
    up[tb_->GroupOf(i)] += static_cast<double>(*last.bytes_out_global_tier - first.bytes_out_global_tier.value_or(0));
    wall = std::max(wall, *last.t - *first.t);
    auto m = tools::ReadAgentMetrics(Metrics(i), std::to_string(i));
    ASSERT_TRUE(m.ok());
    agents.push_back(std::move(*m));
  }
  auto summary = tools::SummarizeRun(agents, "wa", 25, wall);
  ASSERT_TRUE(summary.contains("bytes_sent_by_tier")) << summary.dump();
  const double local = summary["bytes_sent_by_tier"]["local"].get<double>();
  const double global = summary["bytes_sent_by_tier"]["global"].get<double>();
  const double predicted = std::max(up[0], up[1]) * 8 / 50e6;
  std::printf("[ figures ] 2 groups, 50 Mbit/s uplinks: %.1f MB inside groups, %.1f MB between; "
              "%.1f s predicted by the uplink bytes, %.1f s measured\n", local / 1e6, global / 1e6,
              predicted, wall);
  EXPECT_GT(global, 0);
  EXPECT_GT(local, 0);
  EXPECT_NEAR(wall, predicted, 0.3 * predicted);
}

}  // namespace
}  // namespace grapevine::testbed
