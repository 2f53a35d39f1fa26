// Ranks and addresses of `grapevine agent --topology FILE` under a cluster launcher
// (srun, mpirun): which node a rank runs, and — with `--base-port P` — the address of
// every node whose file gives none (or addr="auto"): node j listens on the host of the
// task that runs it, at P + that task's index among its host's tasks. Every agent
// computes the same table from the same environment, so nobody needs a message to
// find its neighbours (docs/cluster.md).
//
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "base/status.h"
#include "tools/cluster_env.h"
#include "topology/topology.h"

namespace grapevine::tools {

// The node a launcher rank runs: the node named `rank` ("3"), else the rank-th node of
// the file. InvalidInput when `rank` is not a number naming a node of the file.
Result<int> NodeForRank(const topology::Topology& topo, const std::string& rank);

// Gives every auto-addr node of `topo` the address of the task whose rank runs it
// (NodeForRank). InvalidInput, naming the node or task, when two ranks run the same
// node, a rank runs no node, an auto-addr node is run by no task, or a port passes
// 65535. Nodes with an addr keep it.
Status AssignAddrs(const Allocation& allocation, int base_port, topology::Topology* topo);

// True when some node's addr is left to AssignAddrs (topology::IsAutoAddr).
bool HasAutoAddrs(const topology::Topology& topo);

}  // namespace grapevine::tools
