// `grapevine launch`: a whole swarm on this machine — one `grapevine agent` process
// per node of a topology file (or of the built-in demo ring), stopped together on
// Ctrl-C or on any failure, and a run folder with every agent's metrics and log,
// summary.json and the run report (tools/report.h). `--compare A,B,..` runs several
// algorithms one after the other on the same topology, split and seed into OUT/<algo>/
// and writes a comparison report into OUT (docs/report.md).
//
// Exit codes: 0 every run complete; 1 an agent failed, a run timed out or a report could
// not be written; 2 bad usage (unknown algorithm, unreadable topology) before anything
// starts; 130 interrupted (SIGINT/SIGTERM/SIGHUP) — the agents are stopped (SIGTERM,
// SIGKILL after 4 s) and the partial reports written.
//
// Thread-safety: single-threaded (the signal handler only sets a flag).
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include "agent/algorithms/registry.h"
#include "base/check.h"
#include "tools/command.h"
#include "tools/config_file.h"
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
  int timeout_s = 0;  // 0: none; per run
  std::string compare;  // --compare: comma-separated algorithms; empty: one run
  double target_accuracy = 0.8;
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
  // `title` (may be empty) starts every status line, e.g. "run 2/6: wa".
  ProgressDisplay(std::vector<std::string> names, int rounds, std::string title)
      : names_(std::move(names)),
        rounds_(rounds),
        title_(title.empty() ? "" : title + " "),
        tty_(isatty(STDOUT_FILENO) != 0) {}

  void Show(const Progress& p, double seconds) {
    const double done = p.min_round + 1 <= 0 ? 0 : static_cast<double>(p.min_round + 1) / rounds_;
    std::string eta = "?";
    if (done > 0 && done < 1) {
      eta = std::to_string(static_cast<int>(seconds / done * (1 - done))) + "s";
    } else if (done >= 1) {
      eta = "0s";
    }
    char head[300];
    std::snprintf(head, sizeof(head),
                  "%s[%6.1fs] rounds %lld-%lld of %d, mean test accuracy %s (%d agents), ETA %s",
                  title_.c_str(), seconds, static_cast<long long>(p.min_round + 1),
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
  std::string title_;
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

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string FormatTarget(double target) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", target);
  return buf;
}

// One row of compare.json's "runs" as a terminal line.
void PrintCompareRow(const nlohmann::json& row) {
  auto num = [&](const char* key, const char* format, double scale) -> std::string {
    const auto it = row.find(key);
    if (it == row.end() || !it->is_number()) return "—";
    char buf[32];
    std::snprintf(buf, sizeof(buf), format, it->get<double>() * scale);
    return buf;
  };
  std::string name = row.value("run", std::string("?"));
  if (!row.value("complete", true)) name += " (partial)";
  // "—" is one column wide but three bytes: pad by hand.
  auto pad = [](const std::string& text, size_t width) {
    size_t shown = 0;
    for (unsigned char c : text) shown += (c & 0xC0) != 0x80 ? 1 : 0;
    return std::string(shown < width ? width - shown : 0, ' ') + text;
  };
  std::printf("%-16s %s %s %s %s %s %s\n", name.c_str(),
              pad(num("final_mean_accuracy", "%.4f", 1), 9).c_str(),
              pad(num("final_min_accuracy", "%.4f", 1), 7).c_str(),
              pad(num("final_max_accuracy", "%.4f", 1), 7).c_str(),
              pad(num("rounds_to_target", "%.0f", 1), 10).c_str(),
              pad(num("bytes_sent_total", "%.1f", 1e-6), 10).c_str(),
              pad(num("wall_seconds", "%.1f", 1), 8).c_str());
}

// The demo's settings: what `grapevine launch` without a TOPOLOGY uses for every
// shared flag the user did not give (README "Quick start", docs/report.md). With a
// topology file the agent's own defaults (agent/node_options.h) apply.
// Measured on 2 shared cores: 0.868 mean test accuracy in 38 s (docs/report.md).
// Non-IID shards drift apart during local steps, so the demo merges more often (50 steps
// a round) and lets the learning rate decay (cosine) instead of 30 x 100 at a constant
// rate (0.77 at the end, swinging by +-0.03 from round to round).
constexpr std::pair<const char*, const char*> kDemoDefaults[] = {
    {"--partition", "dirichlet:0.5"},
    {"--rounds", "80"},
    {"--local-steps", "50"},
    {"--schedule", "cosine"},
};

// Sets the shared flag `flag` of `o` from its text form (the value was checked by us).
void SetSharedFlag(agent::NodeOptions& o, const std::string& flag, const std::string& value) {
  ForEachSharedFlag(o, [&](const char* name, auto& member, const char*) {
    if (flag != name) return;
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, std::string>) {
      member = value;
    } else if constexpr (std::is_same_v<T, bool>) {
      member = value == "true";
    } else {
      std::istringstream in(value);
      in >> member;
      GV_CHECK_MSG(!in.fail(), "a demo default does not parse");
    }
  });
}

// The agents' setting as shown at start and stored in compare.json.
std::string SettingLine(const agent::NodeOptions& a) {
  char buf[300];
  std::snprintf(buf, sizeof(buf), "%s, %s, partition %s, %d rounds x %d steps, lr %g, seed %llu",
                a.data.c_str(), a.model.c_str(), a.partition.c_str(), a.rounds, a.local_steps,
                a.recipe.lr, static_cast<unsigned long long>(a.seed));
  return buf;
}

// "dimat, wa" -> {"dimat", "wa"}; Invalid for an empty item, an unknown algorithm (the
// message names the allowed set, as `--algo` does) or a repeated one.
Result<std::vector<std::string>> ParseAlgoList(const std::string& list) {
  std::vector<std::string> algos;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    const size_t a = item.find_first_not_of(" \t");
    const size_t b = item.find_last_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    if (item.empty()) {
      return Status::Invalid("--compare '" + list + "': empty algorithm name in the list");
    }
    auto spec = agent::algorithms::FindAlgorithm(item);
    if (!spec.ok()) return Status::Invalid("--compare: " + spec.status().message());
    if (std::find(algos.begin(), algos.end(), item) != algos.end()) {
      return Status::Invalid("--compare: '" + item + "' is listed twice");
    }
    algos.push_back(item);
    start = end + 1;
  }
  return algos;
}

// Builds the built-in ring or loads TOPOLOGY; checks that every node has an address.
Result<topology::Topology> LoadOrBuildTopology(const LaunchOptions& o) {
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
  return topo;
}

Status MakeRunFolder(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir + "/metrics", ec);
  if (!ec) fs::create_directories(dir + "/logs", ec);
  if (ec) return Status::Invalid("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

struct RunOutcome {
  int exit_code = 0;  // 0 complete, 1 failed, 130 interrupted
  RunData data;       // label = algo, summary, agents' metrics
};

// One swarm run into the run folder `dir` (already created): starts an agent per node,
// shows progress until they finish, a signal arrives, one fails or the timeout passes,
// stops the rest, then writes summary.json and the run report. `title` prefixes the
// progress lines (compare: "run 2/6 wa").
RunOutcome RunSwarm(const LaunchOptions& o, const agent::NodeOptions& agent_options,
                    const topology::Topology& topo, const std::string& dir,
                    const std::string& command, const std::string& title) {
  RunOutcome outcome;
  const std::string topology_path = dir + "/topology.dot";  // the exact graph of this run
  std::ofstream(topology_path) << topology::WriteDot(topo);
  const int n = topo.num_nodes();
  std::printf("launching %d agents (%s; %s) -> %s\n", n, agent_options.algo.c_str(),
              SettingLine(agent_options).c_str(), dir.c_str());
  std::fflush(stdout);

  const auto started = std::chrono::steady_clock::now();
  ProcessGroup group;
  std::vector<std::string> metric_files, log_files, names;
  const std::string exe = SelfExecutable();
  const std::vector<std::string> shared = SharedFlagsAsArgs(agent_options);
  int exit_code = 0;
  std::string failure;
  for (int i = 0; i < n; ++i) {
    const std::string& name = topo.node(i).name;
    names.push_back(name);
    metric_files.push_back(dir + "/metrics/" + name + ".jsonl");
    log_files.push_back(dir + "/logs/" + name + ".log");
    std::vector<std::string> argv = {exe, "agent", "--topology", topology_path,
                                     "--node", name, "--metrics", metric_files.back()};
    argv.insert(argv.end(), shared.begin(), shared.end());
    auto pid = group.Start(argv, log_files.back());
    if (!pid.ok()) {
      failure = pid.status().message();
      exit_code = 1;
      break;
    }
  }

  ProgressDisplay display(names, agent_options.rounds, title);
  auto last_print = std::chrono::steady_clock::now();
  while (exit_code == 0 && group.running() > 0) {
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
  if (group.running() > 0) {
    if (exit_code == 130) std::printf("interrupted: stopping %zu agents\n", group.running());
    std::fflush(stdout);
    // SIGTERM, then SIGKILL for any agent still alive after 4 s: all gone within 5 s.
    group.StopAll(std::chrono::milliseconds(4000));
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                          .count();
  display.Show(ReadProgress(metric_files), wall);

  std::vector<AgentMetrics> agents;
  for (size_t i = 0; i < names.size(); ++i) {
    auto m = ReadAgentMetrics(metric_files[i], names[i]);
    agents.push_back(m.ok() ? std::move(*m) : AgentMetrics{names[i], {}, 0});
  }
  nlohmann::json summary = SummarizeRun(agents, agent_options.algo, agent_options.rounds, wall);
  summary["complete"] = exit_code == 0;
  summary["partition"] = agent_options.partition;
  summary["model"] = agent_options.model;
  summary["data"] = agent_options.data;
  summary["seed"] = agent_options.seed;
  summary["topology"] = topology_path;
  summary["command"] = command;
  std::ofstream(dir + "/summary.json") << summary.dump(2) << "\n";
  outcome.data = RunData{agent_options.algo, summary, std::move(agents), ""};
  auto report = WriteRunReport(dir, outcome.data, topology_path, command);
  if (!report.ok()) {
    std::fprintf(stderr, "grapevine launch: report not written: %s\n",
                 report.status().message().c_str());
  }
  if (!failure.empty()) std::fprintf(stderr, "grapevine launch: %s\n", failure.c_str());
  const auto& fin = summary["final"];
  if (fin["mean_accuracy"].is_number()) {
    std::printf("%s%s: final mean test accuracy %.4f (min %.4f, max %.4f) in %.1f s, "
                "%.1f MB sent\n",
                title.empty() ? "" : (title + " ").c_str(),
                exit_code == 0 ? "done" : "partial", fin["mean_accuracy"].get<double>(),
                fin["min_accuracy"].get<double>(), fin["max_accuracy"].get<double>(), wall,
                summary["bytes_sent_total"].get<double>() / 1e6);
  }
  std::printf("run folder: %s\n", dir.c_str());
  if (report.ok()) std::printf("report:     %s/report.html\n", dir.c_str());
  std::fflush(stdout);
  outcome.exit_code = exit_code;
  return outcome;
}

std::string AbsoluteFolder(const std::string& dir) {
  return fs::absolute(dir).lexically_normal().string();
}

int RunLaunch(LaunchOptions o) {
  ConfigureLogging(o.agent.log_level, "launch");
  // Everything is checked before anything starts or is created.
  std::vector<std::string> algos;
  if (!o.compare.empty()) {
    auto list = ParseAlgoList(o.compare);
    if (!list.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", list.status().message().c_str());
      return 2;
    }
    algos = std::move(*list);
  }
  auto topo = LoadOrBuildTopology(o);
  if (!topo.ok()) {
    std::fprintf(stderr, "grapevine launch: %s\n", topo.status().message().c_str());
    return 2;
  }
  if (o.out_dir.empty()) {
    o.out_dir = "runs/" + Timestamp() + "-" + (algos.empty() ? o.agent.algo : "compare");
  }
  o.out_dir = AbsoluteFolder(o.out_dir);
  const std::string command = CommandLine();
  InstallStopSignalHandlers();

  if (algos.empty()) {
    if (Status s = MakeRunFolder(o.out_dir); !s.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", s.message().c_str());
      return 2;
    }
    return RunSwarm(o, o.agent, *topo, o.out_dir, command, "").exit_code;
  }

  // --compare: the same topology, split and seed for every algorithm, one after the other.
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "grapevine launch: cannot create %s: %s\n", o.out_dir.c_str(),
                 ec.message().c_str());
    return 2;
  }
  std::ofstream(o.out_dir + "/topology.dot") << topology::WriteDot(*topo);
  std::printf("comparing %zu algorithms on %d agents (%s) -> %s\n", algos.size(),
              topo->num_nodes(), SettingLine(o.agent).c_str(), o.out_dir.c_str());
  std::vector<RunData> runs;
  std::vector<std::string> failed;
  bool interrupted = false;
  for (size_t i = 0; i < algos.size() && !interrupted; ++i) {
    if (StopRequested()) {
      interrupted = true;
      break;
    }
    const std::string title =
        "run " + std::to_string(i + 1) + "/" + std::to_string(algos.size()) + ": " + algos[i];
    std::printf("\n%s\n", title.c_str());
    std::fflush(stdout);
    agent::NodeOptions a = o.agent;
    a.algo = algos[i];
    const std::string dir = o.out_dir + "/" + algos[i];
    if (Status s = MakeRunFolder(dir); !s.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", s.message().c_str());
      failed.push_back(algos[i]);
      continue;
    }
    RunOutcome r = RunSwarm(o, a, *topo, dir, command, title);
    r.data.report_href = algos[i] + "/report.html";
    runs.push_back(std::move(r.data));
    if (r.exit_code == 130) interrupted = true;
    if (r.exit_code == 1) failed.push_back(algos[i]);
  }
  if (StopRequested()) interrupted = true;

  nlohmann::json extra = {
      {"algorithms", algos},
      {"complete", !interrupted && failed.empty()},
      {"interrupted", interrupted},
      {"failed", failed},
      {"setting",
       {{"nodes", topo->num_nodes()}, {"topology", o.out_dir + "/topology.dot"},
        {"data", o.agent.data}, {"model", o.agent.model}, {"partition", o.agent.partition},
        {"seed", o.agent.seed}, {"rounds", o.agent.rounds},
        {"local_steps", o.agent.local_steps}, {"optimizer", o.agent.recipe.optimizer},
        {"lr", o.agent.recipe.lr}, {"batch", o.agent.recipe.batch},
        {"schedule", o.agent.recipe.schedule}}},
      {"command", command}};
  auto report = WriteCompareReport(o.out_dir, runs, o.target_accuracy, command, extra);
  std::printf("\n");
  if (!report.ok()) {
    std::fprintf(stderr, "grapevine launch: comparison report not written: %s\n",
                 report.status().message().c_str());
  } else {
    std::printf("%-16s %9s %7s %7s %10s %10s %8s\n", "algorithm", "mean acc", "min", "max",
                ("to " + FormatTarget(o.target_accuracy)).c_str(), "MB sent", "wall s");
    auto table = nlohmann::json::parse(ReadText(o.out_dir + "/compare.json"), nullptr, false);
    if (!table.is_discarded()) {
      for (const auto& row : table["runs"]) PrintCompareRow(row);
    }
  }
  if (interrupted) {
    std::printf("interrupted after %zu of %zu runs\n", runs.size(), algos.size());
  }
  if (!failed.empty()) {
    std::string names;
    for (const auto& f : failed) names += (names.empty() ? "" : ", ") + f;
    std::fprintf(stderr, "grapevine launch: failed runs: %s\n", names.c_str());
  }
  std::printf("compare folder: %s\n", o.out_dir.c_str());
  if (report.ok()) std::printf("report:         %s/report.html\n", o.out_dir.c_str());
  if (interrupted) return 130;
  if (!failed.empty() || !report.ok()) return 1;
  return 0;
}

void Register(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<LaunchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "launch",
      "Start a whole swarm on this machine: one agent per node of TOPOLOGY. Without TOPOLOGY: "
      "the demo, a ring of --nodes on 127.0.0.1 with --partition dirichlet:0.5 --rounds 80 "
      "--local-steps 50 --schedule cosine unless given");
  cmd->add_option("topology", o->topology_path,
                  "topology file with an addr for every node (default: a ring of --nodes on "
                  "127.0.0.1 with the demo's defaults)");
  cmd->add_option("--out", o->out_dir, "run folder (default: runs/<time>-<algo|compare>)");
  cmd->add_option("--nodes", o->default_nodes, "size of the built-in ring")
      ->check(CLI::Range(2, 256));
  cmd->add_option("--base-port", o->base_port, "first port of the built-in ring")
      ->check(CLI::Range(1024, 65000));
  cmd->add_option("--timeout", o->timeout_s,
                  "stop a run after this many seconds (each run of --compare)");
  CLI::Option* compare = cmd->add_option(
      "--compare", o->compare,
      "comma-separated algorithms to run one after the other on the same topology, split and "
      "seed, e.g. dimat,wa,dpsgd,lasgd,local; writes OUT/<algo>/ and a comparison report");
  cmd->add_option("--target-accuracy", o->target_accuracy,
                  "compare: mean test accuracy for the rounds-to-target column")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  AddSharedFlags(cmd, &o->agent);
  auto config = std::make_shared<std::string>();
  AddConfigOption(cmd, config.get());
  cmd->get_option("--algo")->excludes(compare);
  cmd->callback([o, cmd, config, &ctx]() {
    if (Status st = ApplyConfigFile(cmd, *config); !st.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", st.message().c_str());
      ctx.exit_code = 2;
      return;
    }
    if (o->topology_path.empty()) {
      for (const auto& [flag, value] : kDemoDefaults) {
        if (cmd->count(flag) == 0) SetSharedFlag(o->agent, flag, value);
      }
    }
    ctx.exit_code = RunLaunch(*o);
  });
}

}  // namespace
GRAPEVINE_COMMAND(launch, Register);
}  // namespace grapevine::tools
