#include "tools/cluster_addrs.h"

#include <vector>

#include "topology/addr.h"
#include "topology/number.h"

namespace grapevine::tools {

Result<int> NodeForRank(const topology::Topology& topo, const std::string& rank) {
  if (auto named = topo.FindNode(rank)) return *named;
  const std::string where = topo.source().empty() ? "the topology" : topo.source();
  std::optional<long long> r = topology::ParseInteger(rank, 0, 1 << 30);
  if (!r) return Status::Invalid("rank '" + rank + "' is not a number");
  if (*r >= topo.num_nodes()) {
    return Status::Invalid("rank " + rank + " is not a node of " + where + " (" +
                           std::to_string(topo.num_nodes()) + " nodes)");
  }
  return static_cast<int>(*r);
}

bool HasAutoAddrs(const topology::Topology& topo) {
  for (const auto& node : topo.nodes()) {
    if (topology::IsAutoAddr(node.addr)) return true;
  }
  return false;
}

Status AssignAddrs(const Allocation& allocation, int base_port, topology::Topology* topo) {
  const int tasks = static_cast<int>(allocation.tasks.size());
  const std::string counts = "the topology has " + std::to_string(topo->num_nodes()) +
                             " nodes, " + allocation.source + " has " + std::to_string(tasks) +
                             " tasks";
  std::vector<int> task_of(static_cast<size_t>(topo->num_nodes()), -1);
  for (int r = 0; r < tasks; ++r) {
    auto node = NodeForRank(*topo, std::to_string(r));
    if (!node.ok()) {
      return Status::Invalid("task " + std::to_string(r) + " runs no node (" + counts + ")");
    }
    int& owner = task_of[static_cast<size_t>(*node)];
    if (owner >= 0) {
      return Status::Invalid("tasks " + std::to_string(owner) + " and " + std::to_string(r) +
                             " would both run node " + topo->node(*node).name +
                             " (a rank runs the node named by it, else the rank-th node): "
                             "name the nodes 0.." + std::to_string(topo->num_nodes() - 1));
    }
    owner = r;
  }
  for (int j = 0; j < topo->num_nodes(); ++j) {
    topology::Node& node = topo->mutable_node(j);
    if (!topology::IsAutoAddr(node.addr)) continue;
    const int r = task_of[static_cast<size_t>(j)];
    if (r < 0) {
      return Status::Invalid("node " + node.name + " has no addr and no task runs it (" + counts +
                             ")");
    }
    const TaskPlace& place = allocation.tasks[static_cast<size_t>(r)];
    const int port = base_port + place.local_index;
    if (port > 65535) {
      return Status::Invalid("--base-port " + std::to_string(base_port) + " + local task " +
                             std::to_string(place.local_index) + " on " + place.host +
                             " passes port 65535");
    }
    node.addr = place.host + ":" + std::to_string(port);
  }
  return Status::Ok();
}

}  // namespace grapevine::tools
