// `grapevine launch`: a whole swarm on this machine — one `grapevine agent` process
// per node of a topology file (or of the built-in demo ring), stopped together on
// Ctrl-C or on any failure, and a run folder with every agent's metrics and log,
// summary.json and the run report (tools/report.h). `--compare A,B,..` runs several
// algorithms one after the other on the same topology, split and seed into OUT/<algo>/
// and writes a comparison report into OUT (docs/report.md).
//
// This file is the command line only; the pieces are: launch_options.h (options, demo
// defaults, --compare list), launch_plan.h (graph and port checks), swarm_run.h (start,
// watch, stop, summary and report of one run), launch_progress.h (the progress table),
// launch_compare.h (--compare), run_folder.h (files of a run), ports.h.
//
// Exit codes: 0 every run complete; 1 an agent failed, a run timed out or a report could
// not be written; 2 bad usage (unknown algorithm, unreadable topology) before anything
// starts, or a node's port is held by another program (the message names the node, the
// port and the holder); 130 interrupted (SIGINT/SIGTERM/SIGHUP) — the agents are stopped
// (SIGTERM, SIGKILL after 4 s) and the partial reports written.
//
// Thread-safety: single-threaded (the signal handler only sets a flag).
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>

#include "tools/command.h"
#include "tools/config_file.h"
#include "tools/launch_compare.h"
#include "tools/launch_options.h"
#include "tools/launch_plan.h"
#include "tools/node_flags.h"
#include "tools/process_group.h"
#include "tools/run_folder.h"
#include "tools/swarm_run.h"

namespace grapevine::tools {
namespace {

constexpr char kLaunchFile[] = "/launch.json";

// This launch's arguments after "launch", without --out (resume supplies it).
std::vector<std::string> LaunchArgs() {
  const std::string raw = ReadText("/proc/self/cmdline");
  std::vector<std::string> all;
  for (size_t start = 0; start < raw.size();) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    all.push_back(raw.substr(start, end - start));
    start = end + 1;
  }
  std::vector<std::string> out;
  bool after = false;
  for (size_t k = 0; k < all.size(); ++k) {
    if (!after) {
      after = all[k] == "launch";
      continue;
    }
    if (all[k] == "--out") {
      ++k;
      continue;
    }
    if (all[k].rfind("--out=", 0) == 0) continue;
    out.push_back(all[k]);
  }
  return out;
}

// --resume RUN_DIR: the same launch again in RUN_DIR (same directory, arguments, run
// folder); the agents resume from their checkpoints there. Only returns on failure.
int Resume(const std::string& run_dir) {
  const std::string dir = AbsoluteFolder(run_dir);
  const std::string text = ReadText(dir + kLaunchFile);
  nlohmann::json saved = nlohmann::json::parse(text, nullptr, false);
  if (text.empty() || saved.is_discarded() || !saved["args"].is_array() ||
      !saved["cwd"].is_string()) {
    std::fprintf(stderr, "grapevine launch: %s%s is missing or malformed (not a run folder of "
                 "a launch with checkpoints)\n", dir.c_str(), kLaunchFile);
    return 2;
  }
  if (!saved.value("checkpoints", false)) {
    std::fprintf(stderr, "grapevine launch: %s was launched without --checkpoint-every or "
                 "--checkpoint-dir: nothing to resume from\n", dir.c_str());
    return 2;
  }
  if (chdir(saved["cwd"].get<std::string>().c_str()) != 0) {
    std::fprintf(stderr, "grapevine launch: cannot enter %s\n",
                 saved["cwd"].get<std::string>().c_str());
    return 2;
  }
  const std::string exe = SelfExecutable();
  std::vector<std::string> args = {"grapevine", "launch"};
  for (const auto& a : saved["args"]) args.push_back(a.get<std::string>());
  args.insert(args.end(), {"--out", dir});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::printf("resuming the swarm of %s\n", dir.c_str());
  std::fflush(stdout);
  execv(exe.c_str(), argv.data());
  std::fprintf(stderr, "grapevine launch: cannot run %s\n", exe.c_str());
  return 1;
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
  Status checked = topo.ok() ? CheckPorts(o, *topo) : topo.status();
  if (!checked.ok()) {
    std::fprintf(stderr, "grapevine launch: %s\n", checked.message().c_str());
    return 2;
  }
  if (o.out_dir.empty()) {
    o.out_dir = "runs/" + Timestamp() + "-" + (algos.empty() ? o.agent.algo : "compare");
  }
  o.out_dir = AbsoluteFolder(o.out_dir);
  const std::string command = CommandLine();
  InstallStopSignalHandlers();
  if (!algos.empty()) return RunCompare(o, algos, *topo, command);
  if (Status s = MakeRunFolder(o.out_dir); !s.ok()) {
    std::fprintf(stderr, "grapevine launch: %s\n", s.message().c_str());
    return 2;
  }
  SwarmSpec spec{&*topo, o.agent, o.out_dir, command, "", o.timeout_s, ""};
  if (!o.checkpoint_dir.empty() || o.agent.checkpoint_every > 0) {
    spec.checkpoint_root =
        o.checkpoint_dir.empty() ? o.out_dir + "/checkpoints" : AbsoluteFolder(o.checkpoint_dir);
  }
  {
    nlohmann::json saved;
    saved["cwd"] = std::filesystem::current_path().string();
    saved["args"] = LaunchArgs();
    saved["checkpoints"] = !spec.checkpoint_root.empty();
    std::ofstream(o.out_dir + kLaunchFile) << saved.dump(2) << "\n";
  }
  return RunSwarm(spec).exit_code;
}

void RegisterLaunchCommand(CLI::App& app, CommandContext& ctx) {
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
  cmd->add_option("--base-port", o->base_port,
                  "first port of the built-in ring; keep the ring below the ephemeral port "
                  "range (/proc/sys/net/ipv4/ip_local_port_range), the launcher warns if not")
      ->check(CLI::Range(1024, 65000))
      ->capture_default_str();
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
  cmd->add_option("--checkpoint-dir", o->checkpoint_dir,
                  "checkpoints: each agent keeps its own in DIR/node-<name> (default with "
                  "--checkpoint-every: OUT/checkpoints); a crashed or stopped swarm resumes "
                  "with the same command");
  auto config = std::make_shared<std::string>();
  AddConfigOption(cmd, config.get());
  auto resume = std::make_shared<std::string>();
  cmd->add_option("--resume", *resume,
                  "restart the stopped or crashed swarm of RUN_DIR (a launch with checkpoints): "
                  "same arguments, same run folder; every agent resumes from its checkpoint");
  cmd->get_option("--algo")->excludes(compare);
  cmd->callback([o, cmd, config, resume, &ctx]() {
    if (!resume->empty()) {
      ctx.exit_code = Resume(*resume);
      return;
    }
    if (Status st = ApplyConfigFile(cmd, *config); !st.ok()) {
      std::fprintf(stderr, "grapevine launch: %s\n", st.message().c_str());
      ctx.exit_code = 2;
      return;
    }
    std::vector<std::string> algos{o->agent.algo};
    if (!o->compare.empty()) {
      auto list = ParseAlgoList(o->compare);
      if (list.ok()) algos = *list;  // else RunLaunch reports the list
    }
    if (Status st = CheckAlgoOptionsGiven(*cmd, algos, o->agent.algo_options); !st.ok()) {
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
GRAPEVINE_COMMAND(launch, RegisterLaunchCommand);
}  // namespace grapevine::tools
