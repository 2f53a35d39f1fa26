// What `grapevine launch` checks before anything starts: the graph to run (the built-in
// ring or a topology file, every node with an address) and every node's port (issue 16).
//
// Thread-safety: plain functions (CheckPorts sleeps while it retries).
#pragma once

#include <chrono>

#include "base/status.h"
#include "tools/launch_options.h"
#include "topology/topology.h"

namespace grapevine::tools {

// How long a port held by a non-listening socket (an outgoing connection's local port,
// a closing connection) may take to become free before the launcher gives up.
inline constexpr std::chrono::milliseconds kPortPatience{3000};

// Builds the built-in ring (--nodes, --base-port on 127.0.0.1) or loads TOPOLOGY;
// Invalid when it has no nodes or a node has no address.
Result<topology::Topology> LoadOrBuildTopology(const LaunchOptions& o);

// Warns on stderr when the ports overlap the ephemeral range; Invalid (exit 2) when a
// node's port cannot be bound here, naming the node, the port and the holder.
Status CheckPorts(const LaunchOptions& o, const topology::Topology& topo);

}  // namespace grapevine::tools
