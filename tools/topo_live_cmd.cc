// `grapevine topo live HOST:PORT`: the swarm as one agent sees it — members with their
// state, incarnation, round, last accuracy and traffic, the live edges, and the same
// spectral report `topo inspect` gives for a file (docs/topology.md, docs/agent.md).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "agent/net/status_client.h"
#include "tools/command.h"
#include "tools/node_flags.h"
#include "tools/process_group.h"
#include "topology/analyze.h"
#include "topology/report.h"

namespace grapevine::tools {
namespace {

struct LiveOptions {
  std::string addr;
  bool json = false;
  bool watch = false;
  int interval_s = 2;
  int timeout_ms = 3000;
  std::string secret_file;
};

const char* StateName(proto::MemberState s) {
  switch (s) {
    case proto::MemberState::kAlive: return "alive";
    case proto::MemberState::kSuspect: return "suspect";
    case proto::MemberState::kDead: return "dead";
    case proto::MemberState::kLeft: return "left";
  }
  return "?";
}

struct LiveView {
  nlohmann::json json;
  std::string text;
};

// Asks `addr` for its view, then every other live member for its own round, accuracy
// and traffic (each node is the authority on itself).
Result<LiveView> Observe(const LiveOptions& o, const proto::Secret* secret) {
  const auto timeout = std::chrono::milliseconds(o.timeout_ms);
  GV_ASSIGN_OR_RETURN(proto::StatusReply view, agent::net::FetchStatus(o.addr, secret, timeout));
  std::map<proto::NodeId, proto::NodeStatus> self_reports;
  // Ask every other live member at once (each FetchStatus runs its own io_context), so
  // unreachable members cost one timeout in all, not one each.
  std::vector<std::pair<proto::NodeId, std::future<Result<proto::StatusReply>>>> asks;
  for (const auto& n : view.nodes) {
    if (n.id == view.self) {
      self_reports[n.id] = n;
    } else if (n.state == proto::MemberState::kAlive || n.state == proto::MemberState::kSuspect) {
      asks.emplace_back(n.id, std::async(std::launch::async, [addr = n.addr, secret, timeout] {
                          return agent::net::FetchStatus(addr, secret, timeout);
                        }));
    }
  }
  for (auto& [id, ask] : asks) {
    auto theirs = ask.get();
    if (!theirs.ok()) continue;
    for (const auto& m : theirs->nodes) {
      if (m.id == theirs->self) self_reports[id] = m;
    }
  }
  // The live graph: members not dead or gone, and the edges between them.
  topology::Topology topo(false);
  topo.set_source("live " + o.addr);
  std::map<proto::NodeId, int> index;
  for (const auto& n : view.nodes) {
    if (n.state == proto::MemberState::kDead || n.state == proto::MemberState::kLeft) continue;
    index[n.id] = topo.FindOrAddNode(std::to_string(n.id));
    topo.mutable_node(index[n.id]).addr = n.addr;
  }
  for (const auto& e : view.edges) {
    auto a = index.find(e.a), b = index.find(e.b);
    if (a != index.end() && b != index.end() && !topo.HasEdge(a->second, b->second)) {
      topo.AddEdge(a->second, b->second);
    }
  }
  LiveView out;
  nlohmann::json nodes = nlohmann::json::array();
  std::string table = "  id  addr                   state    inc  round  accuracy  MB in  MB out\n";
  for (const auto& n : view.nodes) {
    nlohmann::json j{{"id", std::to_string(n.id)},
                     {"addr", n.addr},
                     {"state", StateName(n.state)},
                     {"incarnation", n.incarnation}};
    auto it = index.find(n.id);
    j["degree"] = it == index.end() ? 0 : topo.Degree(it->second);
    auto self = self_reports.find(n.id);
    char line[160];
    if (self != self_reports.end()) {
      const auto& s = self->second;
      j["round"] = s.round;
      j["last_accuracy"] = s.last_accuracy >= 0 ? nlohmann::json(s.last_accuracy) : nullptr;
      j["bytes_in"] = s.bytes_in;
      j["bytes_out"] = s.bytes_out;
      std::snprintf(line, sizeof(line), "%4u  %-21s  %-7s %4llu  %5llu  %8s  %5.1f  %6.1f\n", n.id,
                    n.addr.c_str(), StateName(n.state),
                    static_cast<unsigned long long>(n.incarnation),
                    static_cast<unsigned long long>(s.round),
                    s.last_accuracy >= 0 ? std::to_string(s.last_accuracy).substr(0, 6).c_str()
                                         : "-",
                    static_cast<double>(s.bytes_in) / 1e6, static_cast<double>(s.bytes_out) / 1e6);
    } else {
      j["round"] = nullptr;
      j["last_accuracy"] = nullptr;
      j["bytes_in"] = nullptr;
      j["bytes_out"] = nullptr;
      std::snprintf(line, sizeof(line), "%4u  %-21s  %-7s %4llu  %5s  %8s  %5s  %6s\n", n.id,
                    n.addr.c_str(), StateName(n.state),
                    static_cast<unsigned long long>(n.incarnation), "-", "-", "-", "-");
    }
    table += line;
    nodes.push_back(std::move(j));
  }
  auto report = topology::Analyze(topo, topology::WeightsKind::kMetropolis);
  if (report.ok()) {
    for (auto& nr : report->node_list) nr.state = "alive";
    out.json = topology::ReportToJson(*report);
    out.text = topology::ReportToText(*report, 0);
    // The member table above already lists the nodes.
    if (auto cut = out.text.find("node list:"); cut != std::string::npos) out.text.resize(cut);
  } else {
    out.json = {{"nodes", topo.num_nodes()}, {"edges", topo.num_edges()},
                {"error", report.status().message()}};
    out.text = "live graph: " + report.status().message() + "\n";
  }
  out.json["source"] = "live " + o.addr;
  out.json["observer"] = view.self;
  out.json["algo"] = view.algo;
  out.json["members"] = view.nodes.size();
  out.json["node_list"] = nodes;
  nlohmann::json edges = nlohmann::json::array();
  for (const auto& e : view.edges) edges.push_back({std::to_string(e.a), std::to_string(e.b)});
  out.json["edge_list"] = edges;
  out.text = "swarm seen by node " + std::to_string(view.self) + " at " + o.addr + " (algo " +
             view.algo + ")\n" + table + "\n" + out.text;
  return out;
}

int RunLive(const LiveOptions& o) {
  std::optional<proto::Secret> secret;
  if (!o.secret_file.empty()) {
    auto s = proto::LoadSecretFile(o.secret_file);
    if (!s.ok()) {
      std::fprintf(stderr, "grapevine topo live: %s\n", s.status().message().c_str());
      return 2;
    }
    secret = std::move(*s);
  }
  InstallStopSignalHandlers();
  const bool tty = isatty(STDOUT_FILENO) != 0;
  while (true) {
    auto view = Observe(o, secret ? &*secret : nullptr);
    if (!view.ok()) {
      std::fprintf(stderr, "grapevine topo live: %s: %s\n", o.addr.c_str(),
                   view.status().message().c_str());
      if (!o.watch) return view.status().code() == StatusCode::kInvalidInput ? 2 : 1;
    } else if (o.json) {
      std::printf("%s\n", view->json.dump(o.watch ? -1 : 2).c_str());
    } else {
      if (o.watch && tty) std::printf("\033[H\033[2J");
      std::printf("%s", view->text.c_str());
    }
    std::fflush(stdout);
    if (!o.watch) return 0;
    for (int i = 0; i < o.interval_s * 10 && !StopRequested(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (StopRequested()) return 0;
  }
}

void RegisterTopoLiveCommand(CLI::App& app, CommandContext& ctx) {
  CLI::App* topo = app.get_subcommand("topo");
  auto o = std::make_shared<LiveOptions>();
  CLI::App* cmd = topo->add_subcommand(
      "live", "Ask a running agent for its view: members, states, rounds, edges, spectral gap");
  cmd->add_option("addr", o->addr, "host:port of any agent")->required();
  cmd->add_flag("--json", o->json, "one JSON object (same keys as `topo inspect --json`)");
  cmd->add_flag("--watch", o->watch, "refresh until Ctrl-C");
  cmd->add_option("--interval", o->interval_s, "seconds between refreshes with --watch")
      ->check(Positive());
  cmd->add_option("--timeout-ms", o->timeout_ms, "per-agent reply timeout")
      ->check(Positive());
  cmd->add_option("--secret-file", o->secret_file, "the swarm's shared secret");
  cmd->callback([o, &ctx]() { ctx.exit_code = RunLive(*o); });
}

}  // namespace
// Registered after "topo" (the registry is ordered by name), so it can extend it.
GRAPEVINE_COMMAND(topo_live, RegisterTopoLiveCommand);
}  // namespace grapevine::tools
