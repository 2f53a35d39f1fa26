#include "tools/report_data.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

namespace grapevine::tools {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

constexpr const char* kCsvColumns[] = {
    "node",           "round",           "step",          "t",
    "loss",           "test_accuracy",   "bytes_in",      "bytes_out",
    "models_received", "models_merged",  "models_rejected", "models_stale",
    "models_superseded", "neighbours_alive", "wait_seconds"};

std::optional<int64_t> RoundOf(const nlohmann::json& line) {
  auto r = NumberField(line, "round");
  if (!r || *r < 0) return std::nullopt;
  return static_cast<int64_t>(*r) + 1;
}

uint64_t CounterOf(const nlohmann::json& line, const char* key) {
  auto v = NumberField(line, key);
  return v && *v > 0 ? static_cast<uint64_t>(*v) : 0;
}

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

std::string CsvValue(const nlohmann::json& line, const char* key) {
  if (!line.contains(key)) return "";
  const auto& v = line[key];
  if (v.is_string()) return CsvEscape(v.get<std::string>());
  if (v.is_number_integer()) return v.dump();
  if (v.is_number()) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.9g", v.get<double>());
    return buf;
  }
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return "";
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
    std::map<int64_t, const nlohmann::json*> last_line;  // the agent's last line per round
    CounterTrack sent;
    for (const auto& line : a.lines) {
      auto r = RoundOf(line);
      if (!r) continue;
      last_line[*r] = &line;
      rounds[*r].agg.bytes_sent += sent.Step(CounterOf(line, "bytes_out"));
    }
    for (const auto& [r, line] : last_line) {
      Acc& acc = rounds[r];
      ++acc.agg.agents_logged;
      if (auto loss = NumberField(*line, "loss")) {
        acc.loss_sum += *loss;
        ++acc.losses;
      }
      auto accuracy = NumberField(*line, "test_accuracy");
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

AgentSummary SummarizeAgent(const AgentMetrics& agent) {
  AgentSummary s;
  s.node = agent.node;
  s.bad_lines = agent.bad_lines;
  std::map<int64_t, double> accuracy;  // last evaluation per round
  CounterTrack sent, received;
  for (const auto& line : agent.lines) {
    sent.Step(CounterOf(line, "bytes_out"));
    received.Step(CounterOf(line, "bytes_in"));
    if (line.contains("models_merged")) s.models_merged = CounterOf(line, "models_merged");
    if (line.contains("models_rejected")) s.models_rejected = CounterOf(line, "models_rejected");
    auto r = RoundOf(line);
    if (!r) continue;
    s.rounds = std::max(s.rounds, *r);
    if (auto a = NumberField(line, "test_accuracy")) {
      accuracy[*r] = *a;
      s.final_accuracy = *a;
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
  std::string out;
  if (with_run_column) out += "run,";
  for (size_t c = 0; c < std::size(kCsvColumns); ++c) {
    if (c > 0) out += ',';
    out += kCsvColumns[c];
  }
  out += '\n';
  for (const auto& run : runs) {
    for (const auto& agent : *run.agents) {
      for (const auto& line : agent.lines) {
        if (!NumberField(line, "test_accuracy")) continue;
        if (with_run_column) out += CsvEscape(run.label) + ",";
        out += CsvEscape(agent.node);
        for (size_t c = 1; c < std::size(kCsvColumns); ++c) {
          out += ',';
          out += CsvValue(line, kCsvColumns[c]);
        }
        out += '\n';
      }
    }
  }
  return out;
}

}  // namespace grapevine::tools
