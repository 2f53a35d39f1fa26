#include "tools/report_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <string_view>
#include <type_traits>

namespace grapevine::tools {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

int64_t RoundOf(const agent::MetricsRecord& r) { return r.round + 1; }

// Sum of a cumulative counter's growth over the lines; a decrease restarts from zero.
struct CounterTrack {
  uint64_t last = 0;
  uint64_t total = 0;
  uint64_t Step(uint64_t value) {
    uint64_t delta = value >= last ? value - last : value;
    last = value;
    total += delta;
    return delta;
  }
};

std::string CsvEscape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

template <typename T>
std::string CsvValue(const T& v) {
  if constexpr (std::is_floating_point_v<T>) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.9g", v);
    return buf;
  } else {
    return std::to_string(v);
  }
}
template <typename T>
std::string CsvValue(const std::optional<T>& v) {
  return v ? CsvValue(*v) : "";
}

}  // namespace

std::optional<double> NumberField(const nlohmann::json& line, const char* key) {
  if (!line.is_object()) return std::nullopt;
  auto it = line.find(key);
  if (it == line.end() || !it->is_number()) return std::nullopt;
  double v = it->get<double>();
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

std::vector<RoundAggregate> AggregateRounds(const std::vector<AgentMetrics>& agents) {
  struct Acc {
    RoundAggregate agg;
    double acc_sum = 0;
    double loss_sum = 0;
    int losses = 0;
  };
  std::map<int64_t, Acc> rounds;
  for (const auto& a : agents) {
    std::map<int64_t, const agent::MetricsRecord*> last_line;  // the last line per round
    CounterTrack sent;
    for (const auto& line : a.records) {
      const int64_t r = RoundOf(line);
      last_line[r] = &line;
      rounds[r].agg.bytes_sent += sent.Step(line.bytes_out.value_or(0));
    }
    for (const auto& [r, line] : last_line) {
      Acc& acc = rounds[r];
      ++acc.agg.agents_logged;
      if (line->loss) {
        acc.loss_sum += *line->loss;
        ++acc.losses;
      }
      const auto& accuracy = line->test_accuracy;
      if (!accuracy) continue;
      RoundAggregate& g = acc.agg;
      g.min_accuracy = g.agents_evaluated == 0 ? *accuracy : std::min(g.min_accuracy, *accuracy);
      g.max_accuracy = g.agents_evaluated == 0 ? *accuracy : std::max(g.max_accuracy, *accuracy);
      acc.acc_sum += *accuracy;
      ++g.agents_evaluated;
    }
  }
  std::vector<RoundAggregate> out;
  for (auto& [r, acc] : rounds) {
    RoundAggregate g = acc.agg;
    g.round = r;
    if (g.agents_evaluated > 0) {
      g.mean_accuracy = acc.acc_sum / g.agents_evaluated;
    } else {
      g.mean_accuracy = g.min_accuracy = g.max_accuracy = kNaN;
    }
    g.mean_loss = acc.losses > 0 ? acc.loss_sum / acc.losses : kNaN;
    out.push_back(g);
  }
  return out;
}

std::optional<int64_t> RoundsToTarget(const std::vector<RoundAggregate>& rounds, double target) {
  for (const auto& g : rounds) {
    if (g.agents_evaluated > 0 && g.mean_accuracy >= target) return g.round;
  }
  return std::nullopt;
}

std::optional<uint64_t> BytesToTarget(const std::vector<RoundAggregate>& rounds, double target) {
  uint64_t sent = 0;
  for (const auto& g : rounds) {
    sent += g.bytes_sent;
    if (g.agents_evaluated > 0 && g.mean_accuracy >= target) return sent;
  }
  return std::nullopt;
}

AgentSummary SummarizeAgent(const AgentMetrics& agent) {
  AgentSummary s;
  s.node = agent.node;
  s.bad_lines = agent.errors.size();
  std::map<int64_t, double> accuracy;  // last evaluation per round
  CounterTrack sent, received;
  for (const auto& line : agent.records) {
    sent.Step(line.bytes_out.value_or(0));
    received.Step(line.bytes_in.value_or(0));
    if (line.models_merged) s.models_merged = *line.models_merged;
    if (line.models_rejected) s.models_rejected = *line.models_rejected;
    if (line.slowdown) s.slowdown = *line.slowdown;
    const int64_t r = RoundOf(line);
    s.rounds = std::max(s.rounds, r);
    if (line.test_accuracy) {
      accuracy[r] = *line.test_accuracy;
      s.final_accuracy = *line.test_accuracy;
    }
  }
  s.accuracy.assign(accuracy.begin(), accuracy.end());
  s.bytes_sent = sent.total;
  s.bytes_received = received.total;
  return s;
}

RunTotals ComputeTotals(const std::vector<AgentSummary>& agents) {
  RunTotals t;
  double sum = 0;
  for (const auto& a : agents) {
    t.bytes_sent += a.bytes_sent;
    t.bytes_received += a.bytes_received;
    t.rounds = std::max(t.rounds, a.rounds);
    if (!a.final_accuracy) continue;
    double f = *a.final_accuracy;
    sum += f;
    t.final_min = t.final_min ? std::min(*t.final_min, f) : f;
    t.final_max = t.final_max ? std::max(*t.final_max, f) : f;
    ++t.agents_reporting;
  }
  if (t.agents_reporting > 0) t.final_mean = sum / t.agents_reporting;
  return t;
}

std::string MetricsCsv(const std::vector<CsvRun>& runs, bool with_run_column) {
  // The columns: the agent's name, then every field of the record but its node id.
  std::string out = with_run_column ? "run,node" : "node";
  agent::MetricsRecord header;
  agent::ForEachMetricsField(header, [&out](const char* key, const auto&) {
    if (std::string_view(key) != "node") out += std::string(",") + key;
  });
  out += '\n';
  for (const auto& run : runs) {
    for (const auto& agent : *run.agents) {
      for (const auto& line : agent.records) {
        if (!line.test_accuracy) continue;
        if (with_run_column) out += CsvEscape(run.label) + ",";
        out += CsvEscape(agent.node);
        agent::ForEachMetricsField(line, [&out](const char* key, const auto& value) {
          if (std::string_view(key) == "node") return;
          out += ',';  // appended apart: GCC 12 -Wrestrict misfires on "," + string
          out += CsvValue(value);
        });
        out += '\n';
      }
    }
  }
  return out;
}

}  // namespace grapevine::tools
