// Soak: a swarm under continuous churn (issue 16). Two variants of one driver:
//  - kills (127.0.0.1): every KILL_EVERY s one random topology agent is killed -9 and
//    restarted at once with the same command (it resumes from its checkpoint);
//  - partitions (the testbed, docs/testbed.md): every KILL_EVERY s the ring is split into
//    two arcs for PARTITION_FOR s, then healed.
// In both, every CHURN_EVERY s one agent joins (through a random member) and one leaves
// for good (SIGTERM). Checked at the end: no agent crashed or hung, no survivor's round
// took longer than the deadline cap plus three typical rounds, every restart resumed
// with at most --checkpoint-every rounds lost, the mean accuracy rose, every agent's
// RSS stayed bounded, and no process is left.
//
// ctest runs the short variants (8 agents, ~60 s); scripts/soak.sh the long one:
//   SOAK_AGENTS=16 SOAK_SECONDS=600 testbed_soak_test   (also SOAK_ALGO, SOAK_SEED)
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "agent/metrics_record.h"
#include "tests/integration/harness.h"
#include "tests/testbed/testbed.h"
#include "topology/generators.h"

namespace grapevine::testbed {
namespace {

using integration::milliseconds;
using integration::seconds;
using integration::WaitUntil;
using Clock = std::chrono::steady_clock;

using integration::kFashionMnist;
using integration::SecondsSince;
constexpr int kTestbedPort = 47000;
constexpr int kCheckpointEvery = 5;
constexpr double kDeadlineCapSeconds = 2.0;  // --deadline-max-ms 2000 (the default)

double EnvOr(const char* name, double fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::atof(v) : fallback;
}

struct SoakConfig {
  int agents = 8;
  double seconds = 60;
  double kill_every = 15;
  double partition_for = 7;
  double churn_every = 30;
  std::string algo = "dimat";
  uint64_t seed = 1;

  static SoakConfig FromEnv(SoakConfig c) {
    c.agents = static_cast<int>(EnvOr("SOAK_AGENTS", c.agents));
    c.seconds = EnvOr("SOAK_SECONDS", c.seconds);
    c.kill_every = EnvOr("SOAK_KILL_EVERY", c.kill_every);
    c.churn_every = EnvOr("SOAK_CHURN_EVERY", c.churn_every);
    if (const char* a = std::getenv("SOAK_ALGO"); a != nullptr && *a != '\0') c.algo = a;
    c.seed = static_cast<uint64_t>(EnvOr("SOAK_SEED", static_cast<double>(c.seed)));
    return c;
  }
};

// One agent slot: a topology node or a joiner, and every process life it had.
struct Slot {
  std::string name;  // node name, or "j<k>"
  int host = -1;     // testbed host (partition variant)
  std::string addr;
  bool joiner = false;
  bool gone = false;  // left for good
  integration::Process* proc = nullptr;
  std::vector<std::string> argv;
  std::string metrics;
  long rss_settled_kib = -1;  // this life's RSS once settled
  long rss_growth_kib = 0;    // largest growth over any life
  long rss_max_kib = 0;
  Clock::time_point life_start;
  struct Kill {
    int64_t last_round;   // last metrics round before the kill (-1: none yet)
    bool had_checkpoint;  // its --checkpoint-dir held one: the restart must resume
  };
  std::vector<Kill> kills;
};

class SoakTest : public integration::IntegrationTest {
 protected:
  void RunSoak(const SoakConfig& c, bool partitions);

  // Starts (or restarts) the slot's process with its command.
  void Launch(Slot& s) {
    s.proc = &StartArgv(s.name + "-" + std::to_string(lives_++), s.argv);
    s.life_start = Clock::now();
    s.rss_settled_kib = -1;
  }
  std::vector<agent::MetricsRecord> Records(const Slot& s) const {
    auto f = agent::ReadMetricsFile(s.metrics);
    return f.ok() ? f->records : std::vector<agent::MetricsRecord>{};
  }
  std::vector<Slot*> Running(bool topology_only) {
    std::vector<Slot*> out;
    for (auto& s : slots_) {
      if (!s.gone && (!topology_only || !s.joiner)) out.push_back(&s);
    }
    return out;
  }
  void SampleRss() {
    for (auto& s : slots_) {
      if (s.gone || s.proc == nullptr) continue;
      const long rss = integration::RssKib(s.proc->pid());
      if (rss <= 0) continue;
      s.rss_max_kib = std::max(s.rss_max_kib, rss);
      // Settled: 20 s into the life (data loaded, buffers allocated, first merges done).
      if (SecondsSince(s.life_start) < 20) continue;
      if (s.rss_settled_kib < 0) s.rss_settled_kib = rss;
      s.rss_growth_kib = std::max(s.rss_growth_kib, rss - s.rss_settled_kib);
    }
  }
  double MeanLatestAccuracy() {
    double sum = 0;
    int n = 0;
    for (auto* s : Running(false)) {
      auto r = Records(*s);
      for (auto it = r.rbegin(); it != r.rend(); ++it) {
        if (it->test_accuracy) {
          sum += *it->test_accuracy;
          ++n;
          break;
        }
      }
    }
    return n == 0 ? -1 : sum / n;
  }

  std::vector<Slot> slots_;  // reserved up front: pointers stay valid
  int lives_ = 0;
};

void SoakTest::RunSoak(const SoakConfig& c, bool partitions) {
  if (!std::filesystem::exists(kFashionMnist)) GTEST_SKIP() << kFashionMnist << " missing";
  const int n = c.agents;
  const int joiners = static_cast<int>(c.seconds / c.churn_every) + 1;
  std::unique_ptr<Testbed> tb;
  topology::GeneratorOptions g;
  g.host.clear();
  auto ring = topology::Generate(topology::GraphKind::kRing, n, g);
  ASSERT_TRUE(ring.ok());
  std::string topo_file = dir() + "/soak.dot";
  slots_.reserve(static_cast<size_t>(n + joiners));
  if (partitions) {
    TestbedOptions o;
    o.hosts = n + joiners;  // spare hosts for the joiners
    auto made = Testbed::Create(o);
    if (!made.ok() && made.status().code() == StatusCode::kUnavailable) {
      GTEST_SKIP() << made.status().message();
    }
    ASSERT_TRUE(made.ok()) << made.status().message();
    tb = std::move(*made);
    integration::WriteFile(topo_file, tb->TopologyDot(*ring, kTestbedPort));
  }
  std::vector<int> ports;  // loopback
  if (!partitions) {
    for (int i = 0; i < n; ++i) ports.push_back(integration::FreePort());
    topo_file = WriteRing("soak.dot", ports);
  }
  auto addr_of = [&](int index) {
    return partitions ? tb->Address(index) + ":" + std::to_string(kTestbedPort)
                      : integration::Addr(integration::FreePort());
  };
  const std::vector<std::string> common = {
      "--algo", c.algo, "--rounds", "1000000", "--local-steps", "20", "--eval-every", "5",
      "--eval-samples", "500", "--seed", std::to_string(c.seed), "--deadline-max-ms", "2000"};
  auto wrap = [&](const Slot& s, std::vector<std::string> argv) {
    return partitions ? tb->Wrap(s.host, std::move(argv)) : argv;
  };
  for (int i = 0; i < n; ++i) {
    Slot s;
    s.name = std::to_string(i);
    s.host = i;
    s.addr = partitions ? addr_of(i) : integration::Addr(ports[static_cast<size_t>(i)]);
    s.metrics = dir() + "/" + s.name + ".jsonl";
    std::vector<std::string> argv = {integration::GrapevineBin(), "agent", "--topology", topo_file,
                                     "--node", s.name, "--metrics", s.metrics, "--checkpoint-dir",
                                     dir() + "/ckpt-" + s.name, "--checkpoint-every",
                                     std::to_string(kCheckpointEvery)};
    argv.insert(argv.end(), common.begin(), common.end());
    s.argv = wrap(s, argv);
    slots_.push_back(std::move(s));
  }
  for (auto& s : slots_) Launch(s);
  ASSERT_TRUE(WaitUntil(
      [&] {
        for (auto& s : slots_) {
          if (Records(s).empty()) return false;
        }
        return true;
      },
      seconds(90)))
      << "the swarm did not start";

  std::mt19937_64 rng(c.seed);
  auto pick = [&](std::vector<Slot*> from) -> Slot* {
    if (from.empty()) return nullptr;
    return from[std::uniform_int_distribution<size_t>(0, from.size() - 1)(rng)];
  };
  const auto start = Clock::now();
  double next_fault = c.kill_every, next_churn = c.churn_every, next_sample = 0;
  double heal_at = -1;
  int kills = 0, partitions_made = 0, joins = 0, leaves = 0;
  std::vector<std::pair<double, double>> accuracy;  // (s, mean latest accuracy)
  std::vector<std::string> crashed;
  while (SecondsSince(start) < c.seconds) {
    const double now = SecondsSince(start);
    // Any process that ended without being told to is a crash.
    for (auto& s : slots_) {
      if (!s.gone && s.proc != nullptr && !s.proc->Running()) {
        const std::string log = s.proc->Log();
        crashed.push_back(s.name + " (exit " + std::to_string(s.proc->exit_code().value_or(-1)) +
                          "):\n" + log.substr(log.size() > 2000 ? log.size() - 2000 : 0));
        s.gone = true;
      }
    }
    if (now >= next_sample) {
      SampleRss();
      if (const double a = MeanLatestAccuracy(); a >= 0) accuracy.emplace_back(now, a);
      next_sample += 5;
    }
    if (partitions && heal_at >= 0 && now >= heal_at) {
      ASSERT_TRUE(tb->Heal().ok());
      heal_at = -1;
    }
    if (now >= next_fault) {
      next_fault += c.kill_every;
      if (partitions) {
        // Two arcs of the ring, the joiners on a random side.
        const int first = std::uniform_int_distribution<int>(0, n - 1)(rng);
        std::vector<int> side;
        for (int k = 0; k < n / 2; ++k) side.push_back((first + k) % n);
        for (auto& s : slots_) {
          if (s.joiner && std::bernoulli_distribution(0.5)(rng)) side.push_back(s.host);
        }
        ASSERT_TRUE(tb->Partition(side).ok());
        heal_at = now + c.partition_for;
        ++partitions_made;
      } else if (Slot* victim = pick(Running(true))) {
        auto r = Records(*victim);
        bool had_checkpoint = false;
        for (const auto& f : std::filesystem::directory_iterator(dir() + "/ckpt-" + victim->name)) {
          had_checkpoint = had_checkpoint || f.path().extension() == ".gvck";
        }
        victim->kills.push_back({r.empty() ? -1 : r.back().round, had_checkpoint});
        victim->proc->Signal(SIGKILL);
        victim->proc->Wait(seconds(5));
        Launch(*victim);  // the same command: resumes from its checkpoint
        ++kills;
      }
    }
    if (now >= next_churn && static_cast<int>(slots_.size()) < n + joiners) {
      next_churn += c.churn_every;
      // One joins through a random member ...
      Slot* seed = pick(Running(false));
      Slot j;
      j.joiner = true;
      j.name = "j" + std::to_string(joins);
      j.host = n + joins;
      j.addr = addr_of(j.host);
      j.metrics = dir() + "/" + j.name + ".jsonl";
      std::vector<std::string> argv = {integration::GrapevineBin(), "agent", "--join", seed->addr,
                                       "--listen", j.addr, "--metrics", j.metrics};
      argv.insert(argv.end(), common.begin(), common.end());
      j.argv = wrap(j, argv);
      slots_.push_back(std::move(j));
      Launch(slots_.back());
      ++joins;
      // ... and one leaves for good: a member that has been up a while (a process still
      // loading its data has nothing to leave) and not the joiner's seed.
      std::vector<Slot*> settled;
      for (Slot* s : Running(false)) {
        if (s != seed && s != &slots_.back() && SecondsSince(s->life_start) > 20) settled.push_back(s);
      }
      if (Slot* leaver = pick(settled)) {
        leaver->gone = true;
        leaver->proc->Signal(SIGTERM);
        auto code = leaver->proc->Wait(seconds(15));
        EXPECT_EQ(code, 0) << leaver->name << " did not leave cleanly:\n" << leaver->proc->Log();
        ++leaves;
      }
    }
    std::this_thread::sleep_for(milliseconds(250));
  }
  if (partitions && heal_at >= 0) {
    ASSERT_TRUE(tb->Heal().ok());
  }
  SampleRss();
  accuracy.emplace_back(SecondsSince(start), MeanLatestAccuracy());

  for (const auto& why : crashed) ADD_FAILURE() << "agent crashed: " << why;

  // Rounds: no survivor's round (within one process life) took longer than the
  // deadline cap plus three typical rounds; restarts lost at most one checkpoint interval.
  double worst_gap = 0, median_gap = 0;
  std::string worst_at;
  int64_t worst_lost = 0;
  std::vector<double> all_gaps;
  int fresh_restarts = 0;
  for (auto& s : slots_) {
    auto r = Records(s);
    // The kills whose restart must resume; the others found no checkpoint yet and start
    // afresh, having lost less than one checkpoint interval.
    std::vector<Slot::Kill> resumable;
    for (const auto& k : s.kills) {
      if (k.had_checkpoint) {
        resumable.push_back(k);
      } else {
        ++fresh_restarts;
        EXPECT_LT(k.last_round + 1, kCheckpointEvery) << s.name << " had no checkpoint after round " << k.last_round;
      }
    }
    size_t life = 0;
    int64_t life_start_round = r.empty() ? 0 : r.front().round;
    for (size_t k = 1; k < r.size(); ++k) {
      if (r[k].resumed_from) {
        // A new life: the round it resumed from against the last round before the kill.
        if (life < resumable.size()) {
          const int64_t lost = resumable[life].last_round - *r[k].resumed_from;
          worst_lost = std::max(worst_lost, lost);
          EXPECT_LE(lost, kCheckpointEvery) << s.name << " resumed from round " << *r[k].resumed_from
                                            << " after being killed in round " << resumable[life].last_round;
        }
        ++life;
        life_start_round = r[k].round;
        continue;
      }
      if (r[k].round != r[k - 1].round + 1 || !r[k].t || !r[k - 1].t) continue;
      // The first rounds of a life share the machine with agents still loading data.
      if (r[k].round < life_start_round + 5) continue;
      const double gap = *r[k].t - *r[k - 1].t;
      all_gaps.push_back(gap);
      if (gap > worst_gap) {
        worst_gap = gap;
        worst_at = s.name + " round " + std::to_string(r[k].round);
      }
    }
    EXPECT_EQ(life, resumable.size()) << s.name << ": a restart did not resume from its checkpoint";
  }
  ASSERT_FALSE(all_gaps.empty());
  std::sort(all_gaps.begin(), all_gaps.end());
  median_gap = all_gaps[all_gaps.size() / 2];
  const double p99 = all_gaps[all_gaps.size() * 99 / 100];
  const double bound = kDeadlineCapSeconds + 3 * median_gap + 1.0;
  EXPECT_LT(worst_gap, bound) << "at " << worst_at;

  // Accuracy rose.
  std::string series;
  const size_t stride = std::max<size_t>(1, accuracy.size() / 10);  // about 10 points
  auto point = [&](size_t k) {
    series += " " + std::to_string(static_cast<int>(accuracy[k].first)) + "s:" +
              std::to_string(accuracy[k].second).substr(0, 5);
  };
  for (size_t k = 0; k < accuracy.size(); k += stride) point(k);
  if (!accuracy.empty() && (accuracy.size() - 1) % stride != 0) point(accuracy.size() - 1);
  ASSERT_GE(accuracy.size(), 3u);
  EXPECT_GT(accuracy.back().second, accuracy.front().second) << series;
  EXPECT_GE(accuracy.back().second, accuracy[accuracy.size() / 4].second - 0.02) << series;

  // RSS bounded.
  long max_growth = 0, max_rss = 0;
  for (auto& s : slots_) {
    max_growth = std::max(max_growth, s.rss_growth_kib);
    max_rss = std::max(max_rss, s.rss_max_kib);
  }
  EXPECT_LT(max_growth, max_rss / 2) << "an agent's RSS grew by " << max_growth / 1024 << " MB";

  // Stop everything; nothing may be left.
  for (auto& s : slots_) {
    if (s.proc != nullptr) s.proc->Stop();
  }
  if (tb) tb->Destroy();
  int orphans = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc")) {
    const std::string cmdline = integration::ReadFileOrEmpty(e.path().string() + "/cmdline");
    if (cmdline.find(dir()) != std::string::npos) ++orphans;
  }
  EXPECT_EQ(orphans, 0);

  std::printf("[ figures ] soak (%s, %d agents, %s, %.0f s): %d kills, %d partitions, %d joins, "
              "%d leaves; crashes %zu; rounds (after each life's first 5): median %.2f s, p99 %.2f s, "
              "worst %.2f s (%s; bound %.2f s); restarts before a first checkpoint %d; worst rounds "
              "lost on a resume %lld (checkpoint every %d); accuracy%s; RSS "
              "max %ld MB, max growth %ld MB; orphans %d\n",
              partitions ? "partitions, testbed" : "kills, loopback", n, c.algo.c_str(), c.seconds,
              kills, partitions_made, joins, leaves, crashed.size(), median_gap, p99, worst_gap,
              worst_at.c_str(), bound, fresh_restarts, static_cast<long long>(worst_lost), kCheckpointEvery,
              series.c_str(), max_rss / 1024, max_growth / 1024, orphans);
}

TEST_F(SoakTest, KillsRestartsJoinsAndLeaves) {
  RunSoak(SoakConfig::FromEnv({}), /*partitions=*/false);
}

TEST_F(SoakTest, PartitionsJoinsAndLeavesOnTheTestbed) {
  RunSoak(SoakConfig::FromEnv({}), /*partitions=*/true);
}

}  // namespace
}  // namespace grapevine::testbed
