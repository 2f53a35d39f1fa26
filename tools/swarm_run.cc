#include "tools/swarm_run.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <thread>
#include <vector>

#include "tools/launch_options.h"
#include "tools/launch_plan.h"
#include "tools/launch_progress.h"
#include "tools/node_flags.h"
#include "tools/ports.h"
#include "tools/process_group.h"
#include "tools/run_folder.h"
#include "tools/run_summary.h"
#include "topology/dot.h"

namespace grapevine::tools {
namespace {

using Clock = std::chrono::steady_clock;

// The agents of one run and how the run is going.
struct Swarm {
  ProcessGroup group;
  std::vector<std::string> names, metric_files, log_files;
  int exit_code = 0;
  std::string failure;
  Clock::time_point started = Clock::now();
};

// Starts one agent per node. An agent counts as started only once its port could be
// bound right before it starts (CheckPorts found them free; something may have taken
// one since). Stops at the first failure (exit code 1).
void StartAgents(const SwarmSpec& spec, const std::string& topology_path, Swarm& s) {
  const std::string exe = SelfExecutable();
  const std::vector<std::string> shared = SharedFlagsAsArgs(spec.agent);
  for (int i = 0; i < spec.topo->num_nodes(); ++i) {
    const std::string& name = spec.topo->node(i).name;
    s.names.push_back(name);
    s.metric_files.push_back(spec.dir + "/metrics/" + name + ".jsonl");
    s.log_files.push_back(spec.dir + "/logs/" + name + ".log");
    std::vector<std::string> argv = {exe, "agent", "--topology", topology_path,
                                     "--node", name, "--metrics", s.metric_files.back()};
    argv.insert(argv.end(), shared.begin(), shared.end());
    if (!spec.checkpoint_root.empty()) {
      argv.insert(argv.end(), {"--checkpoint-dir", spec.checkpoint_root + "/node-" + name});
    }
    Status st = WaitUntilBindable(name, spec.topo->addr(i), kPortPatience);
    if (st.ok()) st = s.group.Start(argv, s.log_files.back()).status();
    if (!st.ok()) {
      s.failure = st.message();
      s.exit_code = 1;
      return;
    }
  }
}

// One poll of the children, the signal flag and the timeout; false when the run ends.
bool StillRunning(const SwarmSpec& spec, Swarm& s) {
  for (const auto& e : s.group.Poll()) {
    if (e.status != 0 && s.exit_code == 0) {
      s.failure = "agent " + s.names[e.index] + " exited with status " +
                  std::to_string(e.status) + "; its log (" + s.log_files[e.index] +
                  ") ends with:\n" + TailOfFile(s.log_files[e.index], 1500);
      s.exit_code = 1;
    }
  }
  if (s.exit_code != 0) return false;
  if (StopRequested()) {
    s.exit_code = 130;
    return false;
  }
  if (spec.timeout_s > 0 && Clock::now() - s.started > std::chrono::seconds(spec.timeout_s)) {
    s.failure = "timed out after " + std::to_string(spec.timeout_s) + " s";
    s.exit_code = 1;
    return false;
  }
  return s.group.running() > 0;
}

// Shows progress until the run ends, then stops whatever still runs.
void Watch(const SwarmSpec& spec, Swarm& s, ProgressDisplay& display) {
  const auto period = isatty(STDOUT_FILENO) ? std::chrono::milliseconds(500)
                                            : std::chrono::milliseconds(2000);
  auto last_print = Clock::now();
  while (s.exit_code == 0 && s.group.running() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!StillRunning(spec, s)) break;
    if (Clock::now() - last_print > period) {
      last_print = Clock::now();
      display.Show(ReadProgress(s.metric_files),
                   std::chrono::duration<double>(last_print - s.started).count());
    }
  }
  if (s.group.running() > 0) {
    if (s.exit_code == 130) std::printf("interrupted: stopping %zu agents\n", s.group.running());
    std::fflush(stdout);
    // SIGTERM, then SIGKILL for any agent still alive after 4 s: all gone within 5 s.
    s.group.StopAll(std::chrono::milliseconds(4000));
  }
}

// summary.json: SummarizeRun plus what the launcher knows about the run.
nlohmann::json Summary(const SwarmSpec& spec, const std::vector<AgentMetrics>& agents,
                       const std::string& topology_path, double wall, bool complete) {
  nlohmann::json summary = SummarizeRun(agents, spec.agent.algo, spec.agent.rounds, wall);
  summary["complete"] = complete;
  summary["partition"] = spec.agent.partition;
  summary["model"] = spec.agent.model;
  summary["data"] = spec.agent.data;
  summary["seed"] = spec.agent.seed;
  summary["topology"] = topology_path;
  summary["command"] = spec.command;
  return summary;
}

void PrintResult(const SwarmSpec& spec, const nlohmann::json& summary, double wall,
                 bool complete, bool report_ok) {
  const auto& fin = summary["final"];
  if (fin["mean_accuracy"].is_number()) {
    std::printf("%s%s: final mean test accuracy %.4f (min %.4f, max %.4f) in %.1f s, "
                "%.1f MB sent\n",
                spec.title.empty() ? "" : (spec.title + " ").c_str(),
                complete ? "done" : "partial", fin["mean_accuracy"].get<double>(),
                fin["min_accuracy"].get<double>(), fin["max_accuracy"].get<double>(), wall,
                summary["bytes_sent_total"].get<double>() / 1e6);
    if (summary.contains("bytes_sent_by_tier")) {
      const auto& tiers = summary["bytes_sent_by_tier"];
      std::printf("  %.1f MB inside groups, %.1f MB between groups\n",
                  tiers.value("local", 0.0) / 1e6, tiers.value("global", 0.0) / 1e6);
    }
  }
  std::printf("run folder: %s\n", spec.dir.c_str());
  if (report_ok) std::printf("report:     %s/report.html\n", spec.dir.c_str());
  std::fflush(stdout);
}

}  // namespace

RunOutcome RunSwarm(const SwarmSpec& spec) {
  const std::string topology_path = spec.dir + "/topology.dot";  // the exact graph of this run
  std::ofstream(topology_path) << topology::WriteDot(*spec.topo);
  std::printf("launching %d agents (%s; %s) -> %s\n", spec.topo->num_nodes(),
              spec.agent.algo.c_str(), SettingLine(spec.agent).c_str(), spec.dir.c_str());
  std::fflush(stdout);

  Swarm s;
  StartAgents(spec, topology_path, s);
  ProgressDisplay display(s.names, spec.agent.rounds, spec.title);
  Watch(spec, s, display);
  const double wall = std::chrono::duration<double>(Clock::now() - s.started).count();
  display.Show(ReadProgress(s.metric_files), wall);

  std::vector<AgentMetrics> agents;
  for (size_t i = 0; i < s.names.size(); ++i) {
    auto m = ReadAgentMetrics(s.metric_files[i], s.names[i]);
    agents.push_back(m.ok() ? std::move(*m) : AgentMetrics{s.names[i], {}, {}});
  }
  WarnMalformedLines(agents, "grapevine launch");
  const bool complete = s.exit_code == 0;
  nlohmann::json summary = Summary(spec, agents, topology_path, wall, complete);
  std::ofstream(spec.dir + "/summary.json") << summary.dump(2) << "\n";
  RunOutcome outcome{s.exit_code, RunData{spec.agent.algo, summary, std::move(agents), ""}};
  auto report = WriteRunReport(spec.dir, outcome.data, topology_path, spec.command);
  if (!report.ok()) {
    std::fprintf(stderr, "grapevine launch: report not written: %s\n",
                 report.status().message().c_str());
  }
  if (!s.failure.empty()) std::fprintf(stderr, "grapevine launch: %s\n", s.failure.c_str());
  PrintResult(spec, summary, wall, complete, report.ok());
  return outcome;
}

}  // namespace grapevine::tools
