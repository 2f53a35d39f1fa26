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
#include <cstdio>
#include <memory>

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
  SwarmSpec spec{&*topo, o.agent, o.out_dir, command, "", o.timeout_s};
  if (!o.checkpoint_dir.empty() || o.agent.checkpoint_every > 0) {
    spec.checkpoint_root =
        o.checkpoint_dir.empty() ? o.out_dir + "/checkpoints" : AbsoluteFolder(o.checkpoint_dir);
  }
  return RunSwarm(spec).exit_code;
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
