// Testbed: emulated hosts as Linux network namespaces of its own, so swarms run over
// real TCP between distinct addresses, through links of limited rate that can be cut
// and partitioned (DESIGN §10, docs/testbed.md).
//
// Layout. Every host is a namespace `<prefix>-h<i>` with one interface eth0. The hosts
// of topology group g hang off a bridge in the group's gateway namespace `<prefix>-g<g>`
// (host j of the group: 10.99.g.(j+1)/24, the gateway 10.99.g.254). With more than one
// group each gateway has an uplink to a bridge in `<prefix>-core` (gateway g:
// 10.98.0.(g+1)/24) and routes the other groups' subnets over it, so traffic between
// groups crosses exactly two uplinks and traffic inside a group none. `prefix` is
// "gvtb-<pid>-<serial>": names never collide with another run's, and a namespace whose
// pid is gone is stale (SweepStale removes it).
//
// Shaping: a rate is a `tc` token bucket (tbf — this kernel has tbf; netem is not
// built, so delay and loss are not emulated) on both ends of a link, i.e. both
// directions: host rate on every host's eth0 and its gateway port, uplink rate on each
// group's uplink. Faults detach ports from their bridge, so frames vanish silently
// (a cable cut, not a refused connection).
//
// Teardown: Destroy() (and the destructor) kills every process inside the testbed's
// namespaces and deletes them; SIGINT, SIGTERM and SIGHUP tear down every live testbed
// of the process before it dies. A process killed by SIGKILL leaves its namespaces to
// the next run's SweepStale.
//
// Needs root (CAP_SYS_ADMIN, CAP_NET_ADMIN) and `ip`/`tc` (iproute2): Create() says
// Unavailable when the machine cannot create namespaces, and tests skip.
//
// Thread-safety: one thread uses a Testbed; MeasureMbit runs its own two threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "topology/topology.h"

namespace grapevine::testbed {

struct TestbedOptions {
  int hosts = 0;
  // Group of each host (size `hosts`), or empty: one group. Hosts of one group share a
  // bridge; groups are joined through their gateways' uplinks.
  std::vector<std::string> groups;
  std::string host_rate;    // tc rate ("1gbit", "50mbit", "800kbit") of each host's link; "" unshaped
  std::string uplink_rate;  // rate of each group's uplink (two groups or more); "" unshaped
};

class Testbed {
 public:
  // Unavailable (tests skip) when namespaces cannot be created here; Internal naming
  // the failing command for any other failure (and nothing is left behind).
  static Result<std::unique_ptr<Testbed>> Create(const TestbedOptions& options);
  // Hosts = the topology's nodes in file order, groups = their `group` attributes.
  static Result<std::unique_ptr<Testbed>> CreateFor(const topology::Topology& topology,
                                                    TestbedOptions options);
  ~Testbed();
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  // Kills every process in the testbed's namespaces and deletes them. Idempotent.
  void Destroy();

  int hosts() const { return static_cast<int>(hosts_.size()); }
  int groups() const { return static_cast<int>(group_names_.size()); }
  const std::string& prefix() const { return prefix_; }
  const std::string& Namespace(int host) const;
  const std::string& Address(int host) const;  // IPv4 of eth0
  int GroupOf(int host) const;
  // Every namespace this testbed made (hosts, gateways, core).
  std::vector<std::string> Namespaces() const;

  // argv run inside host's namespace: {"ip", "netns", "exec", NS, argv...}.
  std::vector<std::string> Wrap(int host, std::vector<std::string> argv) const;

  // `topology` with node i at Address(i):port (every host has its own address, so
  // every agent can use the same port). DOT text; reads back with LoadTopology.
  std::string TopologyDot(const topology::Topology& topology, int port) const;

  // ---- faults ----
  // The host's link stops carrying frames (either way) until Restore.
  Status Cut(int host);
  Status Restore(int host);
  // `side` cannot reach the other hosts (and back) until Heal; inside each side
  // everything works. With several groups a side must be whole groups.
  Status Partition(const std::vector<int>& side);
  Status Heal();
  Status SetHostRate(int host, const std::string& rate);  // "" removes the limit
  Status SetUplinkRate(int group, const std::string& rate);

  // A plain TCP transfer of `bytes` from host `from` to host `to`; the rate the
  // receiver saw (first byte to last), in Mbit/s.
  Result<double> MeasureMbit(int from, int to, size_t bytes) const;
  // True when a TCP connection from host `from` to a listener on host `to` is
  // established within `timeout_ms`.
  bool CanConnect(int from, int to, int timeout_ms) const;

 private:
  struct Host {
    std::string ns, addr, port;  // port: its interface in the gateway namespace
    int group = 0;
    bool cut = false;
    int side = 0;  // bridge index while partitioned
  };
  Testbed() = default;
  Status Build(const TestbedOptions& options);
  Status Shape(const std::string& ns, const std::string& dev, const std::string& rate);
  Status AttachPort(const Host& h);
  std::string GatewayNs(int group) const;
  std::string CoreNs() const { return prefix_ + "-core"; }

  std::string prefix_;
  std::vector<Host> hosts_;
  std::vector<std::string> group_names_;
  std::vector<int> group_side_;  // per group, while partitioned across groups
  std::vector<std::string> made_;  // namespaces in creation order
  bool destroyed_ = false;
};

// Parses a tc rate ("50mbit", "1gbit", "800kbit", "100bit") into bits per second;
// Invalid naming the text otherwise.
Result<double> ParseRate(const std::string& rate);

// Deletes namespaces named gvtb-<pid>-... whose pid no longer runs. Returns how many.
int SweepStale();

// Namespaces that exist now and start with `prefix`.
std::vector<std::string> ListNamespaces(const std::string& prefix);

}  // namespace grapevine::testbed
