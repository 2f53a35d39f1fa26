#include "tools/launch_plan.h"

#include <cstdio>
#include <vector>

#include "tools/ports.h"
#include "topology/addr.h"
#include "topology/generators.h"
#include "topology/groups.h"
#include "topology/load.h"

namespace grapevine::tools {

Result<topology::Topology> LoadOrBuildTopology(const LaunchOptions& o) {
  topology::Topology topo;
  if (o.topology_path.empty()) {
    topology::GeneratorOptions g;
    g.base_port = o.base_port;
    GV_ASSIGN_OR_RETURN(topo, topology::Generate(topology::GraphKind::kRing, o.default_nodes, g));
  } else {
    GV_ASSIGN_OR_RETURN(topo, topology::LoadTopology(o.topology_path));
    // Two-tier algorithms trust the groups; a file that breaks their rules is refused.
    if (auto groups = topology::ValidateGroups(topo); topology::HasErrors(groups)) {
      return Status::Invalid(topology::FormatIssues(o.topology_path, groups));
    }
  }
  if (topo.num_nodes() == 0) return Status::Invalid("the topology has no nodes");
  for (int i = 0; i < topo.num_nodes(); ++i) {
    if (topology::IsAutoAddr(topo.addr(i))) {
      return Status::Invalid((o.topology_path.empty() ? "topology" : o.topology_path) +
                             ": node '" + topo.node(i).name +
                             "' has no addr (host:port); `grapevine topo gen` writes files with "
                             "addresses (addr-less files are for `grapevine agent --base-port` "
                             "under srun)");
    }
  }
  return topo;
}

Status CheckPorts(const LaunchOptions& o, const topology::Topology& topo) {
  std::vector<int> ports;
  for (int i = 0; i < topo.num_nodes(); ++i) {
    auto hp = topology::ParseAddr(topo.addr(i));
    if (hp.ok()) ports.push_back(hp->port);
  }
  const std::string base = std::to_string(topology::kDefaultBasePort);
  const std::string warning = EphemeralOverlapWarning(
      ports, o.topology_path.empty()
                 ? "choose a --base-port below it (the default is " + base + ")"
                 : "choose ports outside it (`grapevine topo gen --base-port " + base + "`)");
  if (!warning.empty()) std::fprintf(stderr, "grapevine launch: warning: %s\n", warning.c_str());
  for (int i = 0; i < topo.num_nodes(); ++i) {
    GV_RETURN_IF_ERROR(WaitUntilBindable(topo.node(i).name, topo.addr(i), kPortPatience));
  }
  return Status::Ok();
}

}  // namespace grapevine::tools
