// One swarm run of `grapevine launch`: an agent process per node of a topology, watched
// until they finish, a signal arrives, one fails or the timeout passes; then the rest are
// stopped and the run folder gets summary.json and the run report (tools/report.h).
//
// Thread-safety: the launcher's one thread (signals only set a flag, tools/process_group.h).
#pragma once

#include <string>

#include "agent/node_options.h"
#include "tools/report.h"
#include "topology/topology.h"

namespace grapevine::tools {

struct RunOutcome {
  int exit_code = 0;  // 0 complete, 1 failed (an agent, the timeout), 130 interrupted
  RunData data;       // label = algo, summary, agents' metrics
};

struct SwarmSpec {
  const topology::Topology* topo = nullptr;  // not owned; every node has an addr
  agent::NodeOptions agent;                  // the shared flags every agent gets
  std::string dir;                           // the run folder (MakeRunFolder done)
  std::string command;                       // the launcher's command line, for the report
  std::string title;                         // prefixes progress lines ("run 2/6: wa")
  int timeout_s = 0;                         // 0: none
  std::string checkpoint_root;               // each agent: ROOT/node-<name>; empty: none
};

RunOutcome RunSwarm(const SwarmSpec& spec);

}  // namespace grapevine::tools
