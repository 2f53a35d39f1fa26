// Integration: two joiners admitted at once through different members get the same
// id; the one that loses the race joins again by itself (agent/core/membership_rejoin.h)
// and every joiner ends as a live member with its own id. Real processes on 127.0.0.1.
//
// Forcing the race: ids are handed out as max known id + 1 + the admitter's rank
// (graph_policy.h NextJoinId). Member 0 admits two joiners (max+1, max+2) and member 1,
// rank 1, one (max+2) before it hears of member 0's. The ring agents run with
// `--join-k 1` so a joiner is attached to one member only and news of it reaches the
// other admitter through gossip (lan preset: up to 200 ms) rather than at once; the
// joiners run with `--min-degree 1` so their repair does not add a second edge at once.
// Even so the race is timing-dependent: each trial counts as exercising the path only
// when a joiner logged that it lost its id and joined again, and the test fails unless
// at least one trial did. Every trial checks the outcome either way.
#include <signal.h>

#include <cstdio>
#include <set>
#include <thread>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

constexpr int kRing = 4;
constexpr int kMaxTrials = 4;
constexpr int kWantedRaces = 2;  // stop early once the path ran this often

std::vector<std::string> Flags() {
  return {"--data",          "synthetic", "--model",      "mlp:20-32-4", "--rounds",
          "100000",          "--local-steps", "20",       "--membership", "lan",
          "--deadline-max-ms", "500",     "--join-k",     "1",           "--min-degree",
          "1"};
}

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::string IdText(const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

class RejoinTest : public IntegrationTest {
 protected:
  std::string Metrics(const std::string& name) const { return dir() + "/" + name + ".jsonl"; }

  // One trial: a fresh 4-ring, then joiners via members 0, 0 and (a moment later) 1.
  // Returns whether a joiner lost its id and joined again. Stops its processes.
  bool RunTrial(int trial) {
    const std::string t = "t" + std::to_string(trial) + "_";
    std::vector<int> ports;
    for (int i = 0; i < kRing; ++i) ports.push_back(FreePort());
    const std::string ring = WriteRing(t + "ring.dot", ports);
    std::vector<Process*> all;
    for (int i = 0; i < kRing; ++i) {
      const std::string id = std::to_string(i);
      all.push_back(&Start(t + "agent" + id,
                           Concat({"agent", "--topology", ring, "--node", id, "--metrics",
                                   Metrics(t + id)},
                                  Flags())));
    }
    // Joiners need a model to take over (state transfer): wait for the members' first
    // rounds.
    EXPECT_TRUE(WaitUntil(
        [&] {
          for (int i = 0; i < kRing; ++i) {
            if (ReadJsonl(Metrics(t + std::to_string(i))).empty()) return false;
          }
          return true;
        },
        seconds(30)))
        << "the ring did not start";
    const std::vector<int> via = {0, 0, 1};
    std::vector<std::string> joiner_addrs;
    std::vector<Process*> joiners;
    for (size_t k = 0; k < via.size(); ++k) {
      // Member 1's joiner a moment after member 0's two: by then member 0 has
      // admitted both and member 1 has most likely not heard of them yet.
      if (via[k] == 1) std::this_thread::sleep_for(milliseconds(30));
      joiner_addrs.push_back(Addr(FreePort()));
      const std::string name = t + "joiner" + std::to_string(k);
      joiners.push_back(&Start(name, Concat({"agent", "--join", Addr(ports[via[k]]), "--listen",
                                             joiner_addrs.back(), "--metrics", Metrics(name)},
                                            Flags())));
      all.push_back(joiners.back());
    }

    // Member 2 admitted nobody: its view must come to hold every joiner, alive, each
    // address once, and each joiner must agree on its own id.
    nlohmann::json last_view;
    std::string why = "no view yet";
    std::vector<std::string> final_ids(joiner_addrs.size());
    const bool settled = WaitUntil(
        [&] {
          auto live = TopoLive(Addr(ports[2]));
          if (!live) return false;
          last_view = *live;
          if (CountInState(*live, "alive") != kRing + static_cast<int>(via.size())) {
            why = "not every member alive";
            return false;
          }
          std::set<std::string> ids;
          for (size_t k = 0; k < joiner_addrs.size(); ++k) {
            const std::string& addr = joiner_addrs[k];
            int seen = 0;
            std::string id;
            for (const auto& node : live->value("node_list", nlohmann::json::array())) {
              if (node.value("addr", "") == addr && node.value("state", "") == "alive") {
                ++seen;
                id = IdText(node["id"]);
              }
            }
            if (seen != 1) {
              why = addr + " is alive " + std::to_string(seen) + " times";
              return false;
            }
            ids.insert(id);
            final_ids[k] = id;
            auto own = TopoLive(addr);
            if (!own || IdText((*own)["observer"]) != id) {
              why = addr + " does not call itself " + id;
              return false;
            }
          }
          if (ids.size() != joiner_addrs.size()) {
            why = "two joiners share an id";
            return false;
          }
          return true;
        },
        seconds(30));
    EXPECT_TRUE(settled) << "trial " << trial << ": " << why << "; last view "
                         << last_view.dump();

    bool raced = false;
    for (size_t k = 0; k < joiners.size(); ++k) {
      const std::string log = joiners[k]->Log();
      const bool lost = log.find("to another joiner; joining again via") != std::string::npos;
      if (lost) {
        EXPECT_NE(log.find("joined again as node"), std::string::npos) << log;
        raced = true;
        // Under its new id it trains with its new neighbours: it merges their models.
        const std::string name = t + "joiner" + std::to_string(k);
        uint64_t merged_at_join = 0;
        bool first = true;
        const bool merging = WaitUntil(
            [&] {
              for (const auto& line : ReadJsonl(Metrics(name))) {
                if (IdText(line.value("node", nlohmann::json())) != final_ids[k]) continue;
                const uint64_t merged = line.value("models_merged", uint64_t{0});
                if (first) {
                  merged_at_join = merged;
                  first = false;
                }
                if (merged > merged_at_join) return true;
              }
              return false;
            },
            seconds(15));
        EXPECT_TRUE(merging) << name << " merged nothing as node " << final_ids[k];
      }
      EXPECT_EQ(log.find("giving up"), std::string::npos) << log;
    }
    // Nobody exited on its own, and everybody leaves cleanly on SIGTERM.
    for (Process* p : all) {
      EXPECT_TRUE(p->Running()) << p->log_path() << ":\n" << p->Log();
    }
    for (Process* p : all) p->Signal(SIGTERM);
    for (Process* p : all) {
      const auto code = p->Wait(seconds(10));
      EXPECT_EQ(code, std::optional<int>(0)) << p->log_path() << ":\n" << p->Log();
      p->Stop();
    }
    return raced;
  }
};

TEST_F(RejoinTest, ConcurrentJoinersThroughTwoMembersAllEndLiveWithDistinctIds) {
  int races = 0;
  int trials = 0;
  for (; trials < kMaxTrials && races < kWantedRaces; ++trials) {
    races += RunTrial(trials) ? 1 : 0;
    if (HasFailure()) break;
  }
  // A run in which the race never happened tested nothing about re-joining.
  EXPECT_GE(races, 1) << "no id conflict in " << trials << " trials; the race was not forced";
  std::printf("join races forced in %d of %d trials\n", races, trials);
}

}  // namespace
}  // namespace grapevine::integration
