#include "tools/launch_compare.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tools/process_group.h"
#include "tools/report.h"
#include "tools/run_folder.h"
#include "tools/swarm_run.h"
#include "topology/dot.h"

namespace grapevine::tools {
namespace {

// What the runs produced, in the order run.
struct CompareRuns {
  std::vector<RunData> runs;
  std::vector<std::string> failed;
  bool interrupted = false;
};

std::string FormatTarget(double target) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", target);
  return buf;
}

// "—" is one column wide but three bytes: pad by hand.
std::string PadLeft(const std::string& text, size_t width) {
  size_t shown = 0;
  for (unsigned char c : text) shown += (c & 0xC0) != 0x80 ? 1 : 0;
  return std::string(shown < width ? width - shown : 0, ' ') + text;
}

// One row of compare.json's "runs" as a terminal line.
void PrintCompareRow(const nlohmann::json& row) {
  auto num = [&](const char* key, const char* format, double scale, size_t width) {
    const auto it = row.find(key);
    if (it == row.end() || !it->is_number()) return PadLeft("—", width);
    char buf[32];
    std::snprintf(buf, sizeof(buf), format, it->get<double>() * scale);
    return PadLeft(buf, width);
  };
  std::string name = row.value("run", std::string("?"));
  if (!row.value("complete", true)) name += " (partial)";
  std::printf("%-16s %s %s %s %s %s %s %s\n", name.c_str(),
              num("final_mean_accuracy", "%.4f", 1, 9).c_str(),
              num("final_min_accuracy", "%.4f", 1, 7).c_str(),
              num("final_max_accuracy", "%.4f", 1, 7).c_str(),
              num("rounds_to_target", "%.0f", 1, 10).c_str(),
              num("bytes_sent_total", "%.1f", 1e-6, 10).c_str(),
              num("bytes_to_target", "%.1f", 1e-6, 10).c_str(),
              num("wall_seconds", "%.1f", 1, 8).c_str());
}

CompareRuns RunAll(const LaunchOptions& o, const std::vector<std::string>& algos,
                   const topology::Topology& topo, const std::string& command) {
  CompareRuns c;
  for (size_t i = 0; i < algos.size() && !c.interrupted; ++i) {
    if (StopRequested()) break;
    SwarmSpec spec{&topo, o.agent, o.out_dir + "/" + algos[i], command,
                   "run " + std::to_string(i + 1) + "/" + std::to_string(algos.size()) + ": " +
                       algos[i],
                   o.timeout_s, /*checkpoint_root=*/""};
    spec.agent.algo = algos[i];
    std::printf("\n%s\n", spec.title.c_str());
    std::fflush(stdout);
    if (Status s = MakeRunFolder(spec.dir); !s.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", s.message().c_str());
      c.failed.push_back(algos[i]);
      continue;
    }
    RunOutcome r = RunSwarm(spec);
    r.data.report_href = algos[i] + "/report.html";
    c.runs.push_back(std::move(r.data));
    if (r.exit_code == 130) c.interrupted = true;
    if (r.exit_code == 1) c.failed.push_back(algos[i]);
  }
  if (StopRequested()) c.interrupted = true;
  return c;
}

// compare.json's keys beyond the results table.
nlohmann::json CompareExtra(const LaunchOptions& o, const std::vector<std::string>& algos,
                            const topology::Topology& topo, const CompareRuns& c,
                            const std::string& command) {
  const agent::NodeOptions& a = o.agent;
  return {{"algorithms", algos},
          {"complete", !c.interrupted && c.failed.empty()},
          {"interrupted", c.interrupted},
          {"failed", c.failed},
          {"setting",
           {{"nodes", topo.num_nodes()}, {"topology", o.out_dir + "/topology.dot"},
            {"data", a.data}, {"model", a.model}, {"partition", a.partition},
            {"seed", a.seed}, {"rounds", a.rounds}, {"local_steps", a.local_steps},
            {"optimizer", a.recipe.optimizer}, {"lr", a.recipe.lr}, {"batch", a.recipe.batch},
            {"schedule", a.recipe.schedule}}},
          {"command", command}};
}

void PrintTable(const LaunchOptions& o) {
  std::printf("%-16s %9s %7s %7s %10s %10s %10s %8s\n", "algorithm", "mean acc", "min", "max",
              ("to " + FormatTarget(o.target_accuracy)).c_str(), "MB sent",
              ("MB to " + FormatTarget(o.target_accuracy)).c_str(), "wall s");
  auto table = nlohmann::json::parse(ReadText(o.out_dir + "/compare.json"), nullptr, false);
  if (table.is_discarded()) return;
  for (const auto& row : table["runs"]) PrintCompareRow(row);
}

}  // namespace

int RunCompare(const LaunchOptions& o, const std::vector<std::string>& algos,
               const topology::Topology& topo, const std::string& command) {
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "grapevine launch: cannot create %s: %s\n", o.out_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  std::ofstream(o.out_dir + "/topology.dot") << topology::WriteDot(topo);
  std::printf("comparing %zu algorithms on %d agents (%s) -> %s\n", algos.size(),
              topo.num_nodes(), SettingLine(o.agent).c_str(), o.out_dir.c_str());
  const CompareRuns c = RunAll(o, algos, topo, command);
  auto report = WriteCompareReport(o.out_dir, c.runs, o.target_accuracy, command,
                                   CompareExtra(o, algos, topo, c, command));
  std::printf("\n");
  if (report.ok()) {
    PrintTable(o);
  } else {
    std::fprintf(stderr, "grapevine launch: comparison report not written: %s\n",
                 report.status().message().c_str());
  }
  if (c.interrupted) {
    std::printf("interrupted after %zu of %zu runs\n", c.runs.size(), algos.size());
  }
  if (!c.failed.empty()) {
    std::string names;
    for (const auto& f : c.failed) names += (names.empty() ? "" : ", ") + f;
    std::fprintf(stderr, "grapevine launch: failed runs: %s\n", names.c_str());
  }
  std::printf("compare folder: %s\n", o.out_dir.c_str());
  if (report.ok()) std::printf("report:         %s/report.html\n", o.out_dir.c_str());
  if (c.interrupted) return 130;
  if (!c.failed.empty() || !report.ok()) return 1;
  return 0;
}

}  // namespace grapevine::tools
