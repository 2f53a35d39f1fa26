#include "tools/run_summary.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace grapevine::tools {

Result<AgentMetrics> ReadAgentMetrics(const std::string& path, const std::string& node) {
  GV_ASSIGN_OR_RETURN(agent::MetricsFile file, agent::ReadMetricsFile(path));
  return AgentMetrics{node, std::move(file.records), std::move(file.errors)};
}

void WarnMalformedLines(const std::vector<AgentMetrics>& agents, const char* program) {
  for (const auto& a : agents) {
    if (a.errors.empty()) continue;
    std::fprintf(stderr, "%s: warning: %s (%zu malformed line%s skipped)\n", program,
                 a.errors.front().c_str(), a.errors.size(), a.errors.size() == 1 ? "" : "s");
  }
}

nlohmann::json SummarizeRun(const std::vector<AgentMetrics>& agents, const std::string& algo,
                            int rounds, double wall_seconds) {
  std::map<int64_t, std::pair<double, int>> per_round;  // round -> (sum, count)
  std::vector<double> finals;
  uint64_t bytes_sent = 0;
  uint64_t bytes_received = 0;
  // Bytes sent by what the frames carried (metrics bytes_out_<kind>), summed over agents.
  std::map<std::string, uint64_t> by_kind{{"model", 0}, {"compressed", 0}, {"gradient", 0},
                                          {"control", 0}};
  // Topologies with groups: bytes to members of the sender's group ("local") and of
  // other groups ("global"), summed over agents (metrics bytes_out_<tier>_tier).
  std::map<std::string, uint64_t> tiers, agent_tiers;
  nlohmann::json per_agent = nlohmann::json::array();
  for (const auto& a : agents) {
    double last_acc = -1;
    int64_t last_round = -1;
    uint64_t out = 0, in = 0;
    std::map<std::string, uint64_t> kinds;
    for (const auto& l : a.records) {
      for (const auto& [tier, value] : {std::pair{"local", l.bytes_out_local_tier},
                                        {"global", l.bytes_out_global_tier}}) {
        if (!value) continue;
        tiers[tier];  // present: the run's topology has groups
        agent_tiers[tier] = std::max<uint64_t>(agent_tiers[tier], *value);
      }
      for (const auto& [kind, value] : {std::pair{"model", l.bytes_out_model},
                                        {"compressed", l.bytes_out_compressed},
                                        {"gradient", l.bytes_out_gradient},
                                        {"control", l.bytes_out_control}}) {
        kinds[kind] = std::max<uint64_t>(kinds[kind], value.value_or(0));
      }
      const int64_t r = l.round;
      last_round = std::max(last_round, r);
      out = std::max<uint64_t>(out, l.bytes_out.value_or(0));
      in = std::max<uint64_t>(in, l.bytes_in.value_or(0));
      if (l.test_accuracy) {
        double acc = *l.test_accuracy;
        last_acc = acc;
        auto& slot = per_round[r];
        slot.first += acc;
        slot.second += 1;
      }
    }
    bytes_sent += out;
    bytes_received += in;
    for (const auto& [kind, value] : kinds) by_kind[kind] += value;
    for (const auto& [tier, value] : agent_tiers) tiers[tier] += value;
    agent_tiers.clear();
    if (last_acc >= 0) finals.push_back(last_acc);
    per_agent.push_back({{"node", a.node},
                         {"final_accuracy", last_acc >= 0 ? nlohmann::json(last_acc) : nullptr},
                         {"rounds", last_round + 1},
                         {"bytes_sent", out},
                         {"bytes_received", in}});
  }
  nlohmann::json s;
  s["algo"] = algo;
  s["nodes"] = agents.size();
  s["rounds"] = rounds;
  s["wall_seconds"] = wall_seconds;
  nlohmann::json final_obj;
  if (finals.empty()) {
    final_obj = {{"mean_accuracy", nullptr}, {"min_accuracy", nullptr}, {"max_accuracy", nullptr}};
  } else {
    double sum = 0;
    for (double f : finals) sum += f;
    final_obj = {{"mean_accuracy", sum / static_cast<double>(finals.size())},
                 {"min_accuracy", *std::min_element(finals.begin(), finals.end())},
                 {"max_accuracy", *std::max_element(finals.begin(), finals.end())},
                 {"agents_reporting", finals.size()}};
  }
  s["final"] = final_obj;
  s["bytes_sent_total"] = bytes_sent;
  s["bytes_received_total"] = bytes_received;
  s["bytes_sent_by_kind"] = by_kind;
  if (!tiers.empty()) s["bytes_sent_by_tier"] = tiers;
  nlohmann::json pr = nlohmann::json::array();
  for (const auto& [round, acc] : per_round) {
    pr.push_back({{"round", round},
                  {"mean_accuracy", acc.first / acc.second},
                  {"agents", acc.second}});
  }
  s["per_round"] = pr;
  s["per_agent"] = per_agent;
  return s;
}

}  // namespace grapevine::tools
