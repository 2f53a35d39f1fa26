// `grapevine agent`: run one peer, either as a node of a topology file or by joining a
// running swarm through any member. See docs/agent.md.
#include <spdlog/spdlog.h>

#include <Eigen/Core>

#include <cstdlib>
#include <memory>

#include "agent/node.h"
#include "tools/command.h"
#include "tools/config_file.h"
#include "tools/node_flags.h"
#include "topology/load.h"

namespace grapevine::tools {
namespace {

// Under Slurm / Open MPI / PMI launchers the node comes from the rank variable.
std::string NodeFromEnvironment() {
  for (const char* var : {"SLURM_PROCID", "OMPI_COMM_WORLD_RANK", "PMI_RANK"}) {
    if (const char* v = std::getenv(var); v != nullptr && *v != '\0') return v;
  }
  return "";
}

int RunAgent(agent::NodeOptions options) {
  if (!options.topology_path.empty() && options.node.empty()) {
    std::string rank = NodeFromEnvironment();
    if (rank.empty()) {
      std::fprintf(stderr,
                   "grapevine agent: --topology needs --node ID (or SLURM_PROCID, "
                   "OMPI_COMM_WORLD_RANK or PMI_RANK in the environment)\n");
      return 2;
    }
    // A rank names the node with that id, or else the rank-th node of the file.
    auto topo = topology::LoadTopology(options.topology_path);
    if (!topo.ok()) {
      std::fprintf(stderr, "grapevine agent: %s\n", topo.status().message().c_str());
      return 2;
    }
    if (topo->FindNode(rank)) {
      options.node = rank;
    } else {
      int r = std::atoi(rank.c_str());
      if (r < 0 || r >= topo->num_nodes()) {
        std::fprintf(stderr, "grapevine agent: rank %s is not a node of %s (%d nodes)\n",
                     rank.c_str(), options.topology_path.c_str(), topo->num_nodes());
        return 2;
      }
      options.node = topo->node(r).name;
    }
  }
  Eigen::setNbThreads(options.threads);  // per agent; launch runs many agents per machine
  ConfigureLogging(options.log_level,
                   options.node.empty() ? "joiner" : "node " + options.node);
  auto node = agent::Node::Create(options);
  if (!node.ok()) {
    std::fprintf(stderr, "grapevine agent: %s\n", node.status().message().c_str());
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
                  "this agent's node id in the topology (default: the rank from SLURM_PROCID, "
                  "OMPI_COMM_WORLD_RANK or PMI_RANK)");
  auto* join = cmd->add_option("--join", options->join_addr,
                               "host:port of any member of a running swarm");
  cmd->add_option("--listen", options->listen_addr, "joiners: host:port to listen on")
      ->needs(join);
  cmd->add_option("--shard", options->shard,
                  "train on data shard I/N instead of the one the node id implies");
  cmd->add_option("--metrics", options->metrics_path, "JSONL metrics file, one line per round");
  cmd->add_option("--checkpoint-dir", options->checkpoint_dir,
                  "keep checkpoints here (every --checkpoint-every rounds and on SIGINT/SIGTERM); "
                  "the same command again resumes from the newest valid one");
  topo->excludes(join);
  AddSharedFlags(cmd, options.get());
  cmd->callback([options, config, cmd, &ctx]() {
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
    ctx.exit_code = RunAgent(*options);
  });
}

}  // namespace
GRAPEVINE_COMMAND(agent, RegisterAgentCommand);
}  // namespace grapevine::tools
