// `grapevine launch`: a whole swarm on this machine — one `grapevine agent` process
// per node of a topology file, stopped together on Ctrl-C or on any failure, and a run
// folder with every agent's metrics and log plus summary.json. See docs/agent.md.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "tools/command.h"
#include "tools/node_flags.h"
#include "tools/process_group.h"
#include "tools/report.h"
#include "tools/run_summary.h"
#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/load.h"

namespace grapevine::tools {
namespace {

namespace fs = std::filesystem;

struct LaunchOptions {
  std::string topology_path;  // empty: built-in ring
  std::string out_dir;
  int default_nodes = 8;
  int base_port = 47000;
  int timeout_s = 0;  // 0: none
  agent::NodeOptions agent;
};

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string s(size - start, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

// Latest state of one agent, from the tail of its metrics file.
struct AgentProgress {
  int64_t round = -1;
  double loss = 0;
  double accuracy = -1;
  int neighbours = 0;
  double mb_sent = 0;
};

struct Progress {
  std::vector<AgentProgress> agents;
  int64_t min_round = -1;
  int64_t max_round = -1;
  double mean_accuracy = -1;
  int reporting = 0;
};

Progress ReadProgress(const std::vector<std::string>& metric_files) {
  Progress p;
  double acc_sum = 0;
  bool first = true;
  for (const auto& f : metric_files) {
    AgentProgress a;
    auto m = ReadAgentMetrics(f, "");
    if (m.ok()) {
      for (const auto& l : m->lines) {
        a.round = std::max<int64_t>(a.round, l.value("round", int64_t{-1}));
        a.loss = l.value("loss", 0.0);
        a.neighbours = l.value("neighbours_alive", 0);
        a.mb_sent = static_cast<double>(l.value("bytes_out", uint64_t{0})) / 1e6;
        if (l.contains("test_accuracy")) a.accuracy = l["test_accuracy"].get<double>();
      }
    }
    p.min_round = first ? a.round : std::min(p.min_round, a.round);
    p.max_round = std::max(p.max_round, a.round);
    first = false;
    if (a.accuracy >= 0) {
      acc_sum += a.accuracy;
      ++p.reporting;
    }
    p.agents.push_back(a);
  }
  if (p.reporting > 0) p.mean_accuracy = acc_sum / p.reporting;
  return p;
}

// Progress on a terminal: a table redrawn in place. Elsewhere: one plain line per update.
class ProgressDisplay {
 public:
  ProgressDisplay(std::vector<std::string> names, int rounds)
      : names_(std::move(names)), rounds_(rounds), tty_(isatty(STDOUT_FILENO) != 0) {}

  void Show(const Progress& p, double seconds) {
    const double done = p.min_round + 1 <= 0 ? 0 : static_cast<double>(p.min_round + 1) / rounds_;
    std::string eta = "?";
    if (done > 0 && done < 1) {
      eta = std::to_string(static_cast<int>(seconds / done * (1 - done))) + "s";
    } else if (done >= 1) {
      eta = "0s";
    }
    char head[200];
    std::snprintf(head, sizeof(head),
                  "[%6.1fs] rounds %lld-%lld of %d, mean test accuracy %s (%d agents), ETA %s",
                  seconds, static_cast<long long>(p.min_round + 1),
                  static_cast<long long>(p.max_round + 1), rounds_,
                  p.mean_accuracy >= 0 ? std::to_string(p.mean_accuracy).substr(0, 6).c_str()
                                       : "-",
                  p.reporting, eta.c_str());
    if (!tty_) {
      std::printf("%s\n", head);
      std::fflush(stdout);
      return;
    }
    std::string out;
    if (lines_ > 0) out += "\033[" + std::to_string(lines_) + "F";  // back to the table's top
    char line[200];
    std::snprintf(line, sizeof(line), "\033[2K  %-10s %6s %8s %9s %6s %9s\n", "agent", "round",
                  "loss", "accuracy", "neigh", "MB sent");
    out += line;
    for (size_t i = 0; i < p.agents.size() && i < names_.size(); ++i) {
      const auto& a = p.agents[i];
      std::snprintf(line, sizeof(line), "\033[2K  %-10s %6lld %8.4f %9s %6d %9.1f\n",
                    names_[i].c_str(), static_cast<long long>(a.round + 1), a.loss,
                    a.accuracy >= 0 ? std::to_string(a.accuracy).substr(0, 6).c_str() : "-",
                    a.neighbours, a.mb_sent);
      out += line;
    }
    out += "\033[2K";
    out += head;
    out += "\n";
    lines_ = static_cast<int>(p.agents.size()) + 2;
    std::fputs(out.c_str(), stdout);
    std::fflush(stdout);
  }

 private:
  std::vector<std::string> names_;
  int rounds_;
  bool tty_;
  int lines_ = 0;
};

// This process's command line, as typed (for the report).
std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    std::string arg = raw.substr(start, end - start);
    if (first) {
      arg = "grapevine";
      first = false;
    }
    if (!out.empty()) out += ' ';
    bool plain = !arg.empty() && arg.find_first_of(" \t'\"$\\") == std::string::npos;
    out += plain ? arg : "'" + arg + "'";
    start = end + 1;
  }
  return out;
}

Result<topology::Topology> LoadOrBuildTopology(LaunchOptions& o, const std::string& dir) {
  topology::Topology topo;
  if (o.topology_path.empty()) {
    topology::GeneratorOptions g;
    g.base_port = o.base_port;
    GV_ASSIGN_OR_RETURN(topo, topology::Generate(topology::GraphKind::kRing, o.default_nodes, g));
  } else {
    GV_ASSIGN_OR_RETURN(topo, topology::LoadTopology(o.topology_path));
  }
  if (topo.num_nodes() == 0) return Status::Invalid("the topology has no nodes");
  for (int i = 0; i < topo.num_nodes(); ++i) {
    if (topo.addr(i).empty()) {
      return Status::Invalid((o.topology_path.empty() ? "topology" : o.topology_path) +
                             ": node '" + topo.node(i).name +
                             "' has no addr attribute (host:port); `grapevine topo gen` writes "
                             "files with addresses");
    }
  }
  // The run folder keeps the exact graph the agents were started from.
  std::string copy = dir + "/topology.dot";
  std::ofstream(copy) << topology::WriteDot(topo);
  o.topology_path = copy;
  return topo;
}

int RunLaunch(LaunchOptions o) {
  ConfigureLogging(o.agent.log_level, "launch");
  if (o.out_dir.empty()) o.out_dir = "runs/" + Timestamp() + "-" + o.agent.algo;
  std::error_code ec;
  fs::create_directories(o.out_dir + "/metrics", ec);
  fs::create_directories(o.out_dir + "/logs", ec);
  if (ec) {
    std::fprintf(stderr, "grapevine launch: cannot create %s: %s\n", o.out_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  o.out_dir = fs::absolute(o.out_dir).lexically_normal().string();
  auto topo = LoadOrBuildTopology(o, o.out_dir);
  if (!topo.ok()) {
    std::fprintf(stderr, "grapevine launch: %s\n", topo.status().message().c_str());
    return 2;
  }
  const int n = topo->num_nodes();
  std::printf("launching %d agents (%s, %s, partition %s, %d rounds x %d steps) -> %s\n", n,
              o.agent.algo.c_str(), o.agent.model.c_str(), o.agent.partition.c_str(),
              o.agent.rounds, o.agent.local_steps, o.out_dir.c_str());
  std::fflush(stdout);

  InstallStopSignalHandlers();
  const auto started = std::chrono::steady_clock::now();
  ProcessGroup group;
  std::vector<std::string> metric_files, log_files, names;
  const std::string exe = SelfExecutable();
  const std::vector<std::string> shared = SharedFlagsAsArgs(o.agent);
  for (int i = 0; i < n; ++i) {
    const std::string& name = topo->node(i).name;
    names.push_back(name);
    metric_files.push_back(o.out_dir + "/metrics/" + name + ".jsonl");
    log_files.push_back(o.out_dir + "/logs/" + name + ".log");
    std::vector<std::string> argv = {exe, "agent", "--topology", o.topology_path,
                                     "--node", name, "--metrics", metric_files.back()};
    argv.insert(argv.end(), shared.begin(), shared.end());
    auto pid = group.Start(argv, log_files.back());
    if (!pid.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", pid.status().message().c_str());
      group.StopAll();
      return 1;
    }
  }

  ProgressDisplay display(names, o.agent.rounds);
  int exit_code = 0;
  std::string failure;
  auto last_print = std::chrono::steady_clock::now();
  while (group.running() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (const auto& e : group.Poll()) {
      if (e.status != 0 && exit_code == 0) {
        failure = "agent " + names[e.index] + " exited with status " + std::to_string(e.status) +
                  "; its log (" + log_files[e.index] + ") ends with:\n" +
                  TailOfFile(log_files[e.index], 1500);
        exit_code = 1;
      }
    }
    if (exit_code != 0) break;
    if (StopRequested()) {
      exit_code = 130;
      break;
    }
    if (o.timeout_s > 0 && std::chrono::steady_clock::now() - started >
                               std::chrono::seconds(o.timeout_s)) {
      failure = "timed out after " + std::to_string(o.timeout_s) + " s";
      exit_code = 1;
      break;
    }
    const auto period = isatty(STDOUT_FILENO) ? std::chrono::milliseconds(500)
                                              : std::chrono::milliseconds(2000);
    if (std::chrono::steady_clock::now() - last_print > period) {
      last_print = std::chrono::steady_clock::now();
      display.Show(ReadProgress(metric_files),
                   std::chrono::duration<double>(last_print - started).count());
    }
  }
  if (exit_code != 0) {
    if (exit_code == 130) std::printf("interrupted: stopping %zu agents\n", group.running());
    group.StopAll(std::chrono::milliseconds(5000));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                          .count();
  display.Show(ReadProgress(metric_files), wall);

  std::vector<AgentMetrics> agents;
  for (int i = 0; i < n; ++i) {
    auto m = ReadAgentMetrics(metric_files[static_cast<size_t>(i)], names[static_cast<size_t>(i)]);
    agents.push_back(m.ok() ? std::move(*m) : AgentMetrics{names[static_cast<size_t>(i)], {}, 0});
  }
  nlohmann::json summary = SummarizeRun(agents, o.agent.algo, o.agent.rounds, wall);
  summary["complete"] = exit_code == 0;
  summary["partition"] = o.agent.partition;
  summary["model"] = o.agent.model;
  summary["topology"] = o.topology_path;
  summary["command"] = CommandLine();
  std::ofstream(o.out_dir + "/summary.json") << summary.dump(2) << "\n";
  auto report = WriteRunReport(o.out_dir, RunData{o.agent.algo, summary, std::move(agents), ""},
                               o.out_dir + "/topology.dot", summary["command"].get<std::string>());
  if (!report.ok()) {
    std::fprintf(stderr, "grapevine launch: report not written: %s\n",
                 report.status().message().c_str());
  }
  if (!failure.empty()) std::fprintf(stderr, "grapevine launch: %s\n", failure.c_str());
  const auto& fin = summary["final"];
  if (fin["mean_accuracy"].is_number()) {
    std::printf("%s: final mean test accuracy %.4f (min %.4f, max %.4f) in %.1f s, %.1f MB sent\n",
                exit_code == 0 ? "done" : "partial", fin["mean_accuracy"].get<double>(),
                fin["min_accuracy"].get<double>(), fin["max_accuracy"].get<double>(), wall,
                summary["bytes_sent_total"].get<double>() / 1e6);
  }
  std::printf("run folder: %s\n", o.out_dir.c_str());
  if (report.ok()) std::printf("report:     %s/report.html\n", o.out_dir.c_str());
  return exit_code;
}

void Register(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<LaunchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "launch", "Start a whole swarm on this machine: one agent per node of TOPOLOGY");
  cmd->add_option("topology", o->topology_path,
                  "topology file with an addr for every node (default: a ring of --nodes on "
                  "127.0.0.1)");
  cmd->add_option("--out", o->out_dir, "run folder (default: runs/<time>-<algo>)");
  cmd->add_option("--nodes", o->default_nodes, "size of the built-in ring")
      ->check(CLI::Range(2, 256));
  cmd->add_option("--base-port", o->base_port, "first port of the built-in ring")
      ->check(CLI::Range(1024, 65000));
  cmd->add_option("--timeout", o->timeout_s, "stop everything after this many seconds");
  AddSharedFlags(cmd, &o->agent);
  cmd->callback([o, &ctx]() { ctx.exit_code = RunLaunch(*o); });
}

}  // namespace
GRAPEVINE_COMMAND(launch, Register);
}  // namespace grapevine::tools
