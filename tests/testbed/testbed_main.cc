// grapevine-testbed: the multi-host testbed by hand (docs/testbed.md).
//
//   grapevine-testbed up TOPOLOGY [--port P] [--host-rate R] [--uplink-rate R] [--out FILE]
//       one emulated host per node of TOPOLOGY (its groups become shaped sub-networks);
//       writes the topology with the hosts' addresses to FILE and prints, per host, the
//       command that starts its agent; holds the testbed until Ctrl-C, then tears it down.
//   grapevine-testbed measure [--host-rate R] [--uplink-rate R] [--mbytes M]
//       two groups of two hosts; prints what a plain TCP transfer carries inside a group
//       and between the groups.
//   grapevine-testbed sweep
//       removes the namespaces of testbeds whose process died (kill -9).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "tests/testbed/testbed.h"
#include "topology/load.h"

using grapevine::testbed::Testbed;
using grapevine::testbed::TestbedOptions;

namespace {

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "grapevine-testbed: %s\n", message.c_str());
  return code;
}

// Bad input 2, no namespaces on this machine 3, anything else 1.
int Fail(const grapevine::Status& st) {
  if (st.code() == grapevine::StatusCode::kUnavailable) return Fail(st.message(), 3);
  return Fail(st.message(), grapevine::ExitCodeFor(st));
}

int Up(const std::string& topology_path, int port, const TestbedOptions& base,
       const std::string& out) {
  auto topo = grapevine::topology::LoadTopology(topology_path);
  if (!topo.ok()) return Fail(topo.status());
  auto tb = Testbed::CreateFor(*topo, base);
  if (!tb.ok()) return Fail(tb.status());
  const std::string file = out.empty() ? (*tb)->prefix() + ".dot" : out;
  std::ofstream(file) << (*tb)->TopologyDot(*topo, port);
  std::printf("testbed %s: %d hosts in %d group(s); topology with their addresses: %s\n",
              (*tb)->prefix().c_str(), (*tb)->hosts(), (*tb)->groups(), file.c_str());
  for (int i = 0; i < (*tb)->hosts(); ++i) {
    std::printf("  host %d  %-12s  ip netns exec %s grapevine agent --topology %s --node %s\n", i,
                (*tb)->Address(i).c_str(), (*tb)->Namespace(i).c_str(), file.c_str(),
                topo->node(i).name.c_str());
  }
  std::printf("Ctrl-C tears it down.\n");
  std::fflush(stdout);
  for (;;) pause();  // the testbed's signal handler tears down and ends the process
}

int Measure(const TestbedOptions& base, double mbytes) {
  TestbedOptions o = base;
  o.hosts = 4;
  o.groups = {"a", "a", "b", "b"};
  auto tb = Testbed::Create(o);
  if (!tb.ok()) return Fail(tb.status());
  const auto bytes = static_cast<size_t>(mbytes * 1e6);
  auto inside = (*tb)->MeasureMbit(0, 1, bytes);
  auto between = (*tb)->MeasureMbit(0, 2, bytes);
  if (!inside.ok()) return Fail(inside.status());
  if (!between.ok()) return Fail(between.status());
  std::printf("host rate %s, uplink rate %s, %.0f MB per transfer\n",
              base.host_rate.empty() ? "unshaped" : base.host_rate.c_str(),
              base.uplink_rate.empty() ? "unshaped" : base.uplink_rate.c_str(), mbytes);
  std::printf("  inside a group   %8.1f Mbit/s\n", *inside);
  std::printf("  between groups   %8.1f Mbit/s\n", *between);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"grapevine-testbed: emulated hosts as network namespaces (docs/testbed.md)"};
  app.require_subcommand(1);
  TestbedOptions options;
  std::string topology, out;
  int port = 47000;
  double mbytes = 20;

  auto* up = app.add_subcommand("up", "one host per topology node, until Ctrl-C");
  up->add_option("topology", topology, "topology file (any grapevine format)")->required();
  up->add_option("--port", port, "port every agent listens on")->check(CLI::Range(1, 65535));
  up->add_option("--out", out, "where to write the topology with the hosts' addresses");
  auto* measure = app.add_subcommand("measure", "TCP rate inside a group and between groups");
  measure->add_option("--mbytes", mbytes, "megabytes per transfer")->check(CLI::Range(0.1, 1e4));
  for (auto* sub : {up, measure}) {
    sub->add_option("--host-rate", options.host_rate, "tc rate of each host's link (e.g. 1gbit)");
    sub->add_option("--uplink-rate", options.uplink_rate, "tc rate of each group's uplink (e.g. 50mbit)");
  }
  auto* sweep = app.add_subcommand("sweep", "remove namespaces of testbeds whose process died");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*up) return Up(topology, port, options, out);
  if (*measure) return Measure(options, mbytes);
  if (*sweep) {
    std::printf("removed %d stale namespace(s)\n", grapevine::testbed::SweepStale());
    return 0;
  }
  return 2;
}
