// `grapevine agent`: run one peer, either as a node of a topology file or by joining a
// running swarm through any member. See docs/agent.md.
#include <spdlog/spdlog.h>

#include <Eigen/Core>

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "agent/node.h"
#include "tools/command.h"
#include "tools/cluster_addrs.h"
#include "tools/cluster_env.h"
#include "tools/config_file.h"
#include "tools/node_flags.h"
#include "topology/addr.h"
#include "topology/dot.h"
#include "topology/groups.h"
#include "topology/load.h"

namespace grapevine::tools {
namespace {

// A resolved copy of the topology for Node::Create to read, removed when it goes away
// (the Node reads its file only while it is created).
class ResolvedTopologyFile {
 public:
  ~ResolvedTopologyFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }
  Status Write(const topology::Topology& topo) {
    const char* tmp = std::getenv("TMPDIR");
    std::string path = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                       "/grapevine-topology-XXXXXX.dot";
    const int fd = mkstemps(path.data(), 4);
    if (fd < 0) return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
    path_ = path;
    const std::string text = topology::WriteDot(topo);
    const bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    return ok ? Status::Ok() : Status::IoError("cannot write " + path);
  }

 private:
  std::string path_;
};

// An addr-less node listens at the address of the task that runs it, so with
// --base-port an explicit --node must be this task's own node.
Status CheckNodeIsThisTask(const topology::Topology& topo, const std::string& node,
                           const EnvLookup& env) {
  const std::optional<int> given = topo.FindNode(node);
  const std::optional<LauncherRank> rank = RankFromEnv(env);
  if (!given || !rank || !topology::IsAutoAddr(topo.node(*given).addr)) return Status::Ok();
  auto mine = NodeForRank(topo, rank->value);
  if (!mine.ok() || *mine == *given) return Status::Ok();
  return Status::Invalid("--node " + node + ", but this is the task of " + rank->variable + "=" +
                         rank->value + ", which runs node " + topo.node(*mine).name +
                         ": with --base-port an addr-less node listens at its own task's "
                         "address; leave --node out");
}

// --topology: the node from the launcher's rank when --node is not given, and with
// --base-port the addresses the file leaves to the allocation (docs/cluster.md). May
// point options->topology_path at `resolved`.
Status ResolveTopology(int base_port, agent::NodeOptions* options, ResolvedTopologyFile* resolved) {
  GV_ASSIGN_OR_RETURN(topology::Topology topo, topology::LoadTopology(options->topology_path));
  // Two-tier algorithms trust the groups; a file that breaks their rules is refused.
  if (auto groups = topology::ValidateGroups(topo); topology::HasErrors(groups)) {
    return Status::Invalid(topology::FormatIssues(options->topology_path, groups));
  }
  const EnvLookup env = ProcessEnv();
  if (options->node.empty()) {
    std::optional<LauncherRank> rank = RankFromEnv(env);
    if (!rank) {
      return Status::Invalid(
          "--topology needs --node ID (or OMPI_COMM_WORLD_RANK, PMI_RANK or SLURM_PROCID in "
          "the environment)");
    }
    auto index = NodeForRank(topo, rank->value);
    if (!index.ok()) return Status::Invalid(rank->variable + ": " + index.status().message());
    options->node = topo.node(*index).name;
  }
  if (!HasAutoAddrs(topo)) {
    if (base_port > 0) {
      std::fprintf(stderr, "grapevine agent: note: --base-port is not used: every node of %s "
                   "has an addr\n", options->topology_path.c_str());
    }
    return Status::Ok();
  }
  if (base_port == 0) {
    for (const auto& node : topo.nodes()) {
      if (!topology::IsAutoAddr(node.addr)) continue;
      return Status::Invalid(options->topology_path + ": node '" + node.name +
                             "' has no addr: give it addr=HOST:PORT, or start the agents "
                             "with srun and --base-port P (docs/cluster.md)");
    }
  }
  GV_ASSIGN_OR_RETURN(Allocation allocation, AllocationFromEnv(env));
  GV_RETURN_IF_ERROR(CheckNodeIsThisTask(topo, options->node, env));
  if (Status st = AssignAddrs(allocation, base_port, &topo); !st.ok()) {
    return Status::Invalid(options->topology_path + ": " + st.message());
  }
  GV_RETURN_IF_ERROR(resolved->Write(topo));
  options->topology_path = resolved->path();
  return Status::Ok();
}

int RunAgent(agent::NodeOptions options, int base_port) {
  // SIGINT/SIGTERM wait (pending) until the agent listens for them: one sent while it
  // still loads its data then leaves like any other, instead of killing the process
  // (exit 143). Threads started from here on inherit the mask; Network::Start unblocks
  // them in this thread once its handler is in place.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  ResolvedTopologyFile resolved;
  const std::string given_path = options.topology_path;
  if (!options.topology_path.empty()) {
    if (Status st = ResolveTopology(base_port, &options, &resolved); !st.ok()) {
      std::fprintf(stderr, "grapevine agent: %s\n", st.message().c_str());
      return ExitCodeFor(st);
    }
  }
  Eigen::setNbThreads(options.threads);  // per agent; launch runs many agents per machine
  ConfigureLogging(options.log_level,
                   options.node.empty() ? "joiner" : "node " + options.node);
  auto node = agent::Node::Create(options);
  if (!node.ok()) {
    std::string message = node.status().message();
    // Name the user's file, not the resolved copy.
    for (size_t at; !resolved.path().empty() &&
                    (at = message.find(resolved.path())) != std::string::npos;) {
      message.replace(at, resolved.path().size(), given_path);
    }
    std::fprintf(stderr, "grapevine agent: %s\n", message.c_str());
    return ExitCodeFor(node.status());
  }
  return (*node)->Run();
}

void RegisterAgentCommand(CLI::App& app, CommandContext& ctx) {
  auto options = std::make_shared<agent::NodeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "agent", "Run one peer: --topology FILE --node ID, or --join HOST:PORT --listen HOST:PORT");
  auto config = std::make_shared<std::string>();
  AddConfigOption(cmd, config.get());
  auto* topo = cmd->add_option("--topology", options->topology_path,
                               "topology file (DOT, GraphML or edge list) naming every node");
  cmd->add_option("--node", options->node,
                  "this agent's node id in the topology (default: the launcher's rank from "
                  "OMPI_COMM_WORLD_RANK, PMI_RANK or SLURM_PROCID)");
  auto base_port = std::make_shared<int>(0);
  cmd->add_option("--base-port", *base_port,
                  "under srun (or mpirun on one host): nodes without addr (or addr=\"auto\") "
                  "listen on their task's host at this port + the task's local index "
                  "(docs/cluster.md)")
      ->check(CLI::Range(1, 65535))
      ->needs(topo);
  auto* join = cmd->add_option("--join", options->join_addr,
                               "host:port of any member of a running swarm");
  cmd->add_option("--listen", options->listen_addr, "joiners: host:port to listen on")
      ->needs(join);
  cmd->add_option("--slowdown", options->slowdown,
                  "straggler emulation: each step's compute takes F times as long (sleeps the "
                  "difference); default: the node's slowdown attribute in the topology file, "
                  "else 1")
      ->type_name("F")
      ->check(CLI::Range(1.0, 100.0));
  cmd->add_option("--shard", options->shard,
                  "train on data shard I/N instead of the one the node id implies");
  cmd->add_option("--metrics", options->metrics_path, "JSONL metrics file, one line per round");
  cmd->add_option("--checkpoint-dir", options->checkpoint_dir,
                  "keep checkpoints here (every --checkpoint-every rounds and on SIGINT/SIGTERM); "
                  "the same command again resumes from the newest valid one");
  topo->excludes(join);
  AddSharedFlags(cmd, options.get());
  cmd->callback([options, config, base_port, cmd, &ctx]() {
    if (Status st = ApplyConfigFile(cmd, *config); !st.ok()) {
      std::fprintf(stderr, "grapevine agent: %s\n", st.message().c_str());
      ctx.exit_code = 2;
      return;
    }
    if (Status st = CheckAlgoOptionsGiven(*cmd, {options->algo}, options->algo_options); !st.ok()) {
      std::fprintf(stderr, "grapevine agent: %s\n", st.message().c_str());
      ctx.exit_code = 2;
      return;
    }
    ctx.exit_code = RunAgent(*options, *base_port);
  });
}

}  // namespace
GRAPEVINE_COMMAND(agent, RegisterAgentCommand);
}  // namespace grapevine::tools
