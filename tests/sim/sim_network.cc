#include "tests/sim/sim_network.h"

#include <gtest/gtest.h>

#include <set>

#include "agent/core/graph_policy.h"

namespace grapevine::sim {

using agent::core::MemberState;
using proto::NodeId;

// One simulated agent: its transport, its membership driver, and what it reported.
struct SimNetwork::Agent final : agent::MembershipDriver::Listener {
  std::unique_ptr<agent::sim::MemoryTransport> transport;
  std::unique_ptr<agent::MembershipDriver> driver;
  std::vector<agent::core::Event> events;
  int* rejoins = nullptr;
  uint64_t seed = 0;
  bool crashed = false;
  bool left = false;

  void OnMembershipEvents(const std::vector<agent::core::Event>& e) override {
    events.insert(events.end(), e.begin(), e.end());
  }
  void OnIdentityLost(proto::NodeId) override { ++*rejoins; }
  void OnFatal(const Status& why) override {
    ADD_FAILURE() << "agent " << transport->listen_addr() << " gave up: " << why.ToString();
  }
};

SimNetwork::SimNetwork(uint64_t seed, Duration tick)
    : loop_(clock_),
      net_(loop_, seed),
      tick_(tick),
      placeholder_(agent::core::MembershipConfig::Fast(), proto::kNoNode, "", 0) {}

SimNetwork::~SimNetwork() {
  for (auto& [addr, a] : agents_) a->transport->Stop();
}

SimNetwork::Agent& SimNetwork::Add(const std::string& addr, uint64_t seed,
                                   const std::string& join_via) {
  auto a = std::make_unique<Agent>();
  Agent* self = a.get();
  a->rejoins = &rejoins_;
  a->seed = seed;
  a->transport = net_.NewTransport();
  MakeDriver(*a, join_via);
  agent::core::Transport::Handlers h;
  h.on_envelope = [self](const agent::core::LinkPtr& link, proto::Envelope&& env) {
    self->driver->OnEnvelope(link, env);
  };
  a->transport->SetHandlers(std::move(h));
  EXPECT_TRUE(a->transport->Listen(addr).ok()) << addr;
  a->transport->Start();
  a->transport->Every(std::chrono::duration_cast<std::chrono::milliseconds>(tick_),
                      [self] { self->driver->OnTick(); });
  agents_[addr] = std::move(a);
  return *self;
}

void SimNetwork::MakeDriver(Agent& a, const std::string& join_via) {
  agent::MembershipDriver::Options o;
  o.config = agent::core::MembershipConfig::Fast();
  o.seed = a.seed;
  o.join_addr = join_via;
  a.driver = std::make_unique<agent::MembershipDriver>(*a.transport, clock_, a, o);
}

void SimNetwork::AddMember(NodeId id, const std::string& addr, uint64_t seed,
                           const std::vector<proto::MemberRecord>& members,
                           const std::vector<proto::Edge>& edges) {
  Agent& a = Add(addr, seed, "");
  EXPECT_TRUE(a.driver->Bootstrap(id, addr, members, edges).ok()) << addr;
}

void SimNetwork::AddJoiner(const std::string& addr, uint64_t seed) { Add(addr, seed, ""); }

void SimNetwork::StartJoin(const std::string& joiner, const std::string& member) {
  Agent* a = agents_.at(joiner).get();
  // The driver is replaced on the network thread, where its handlers run: one that
  // joins, and re-joins after a lost race, through `member`.
  a->transport->Post([this, a, member] {
    MakeDriver(*a, member);
    a->driver->StartJoin();
  });
}

const Membership& SimNetwork::Node(const std::string& addr) const {
  const agent::core::Membership* m = agents_.at(addr)->driver->membership();
  return m != nullptr ? *m : placeholder_;
}

std::vector<std::string> SimNetwork::Running() const {
  std::vector<std::string> out;
  for (const auto& [addr, a] : agents_) {
    if (!a->crashed && !a->left) out.push_back(addr);
  }
  return out;
}

void SimNetwork::Crash(const std::string& addr) {
  Agent& a = *agents_.at(addr);
  a.crashed = true;
  a.transport->Crash();
}

void SimNetwork::Leave(const std::string& addr) {
  Agent& a = *agents_.at(addr);
  a.left = true;
  a.driver->Leave();  // announced; a membership that left neither probes nor answers
}

const std::vector<agent::core::Event>& SimNetwork::Events(const std::string& addr) const {
  return agents_.at(addr)->events;
}

void SimNetwork::RunFor(Duration d) { loop_.RunUntil([] { return false; }, d); }

Duration SimNetwork::RunUntil(const std::function<bool()>& pred, Duration limit) {
  const TimePoint start = now();
  if (loop_.RunUntil(pred, limit)) return now() - start;
  return Duration(-1);
}
ConvergenceReport SimNetwork::CheckConverged(const std::vector<std::string>& alive) const {
  ConvergenceReport report;
  std::set<NodeId> expected;
  for (const std::string& addr : alive) {
    const Membership& m = Node(addr);
    if (m.self() == proto::kNoNode || m.conflicted()) {
      report.reason = addr + " has no id";
      return report;
    }
    if (!expected.insert(m.self()).second) {
      report.reason = "two nodes hold id " + std::to_string(m.self());
      return report;
    }
  }
  std::map<NodeId, std::string> owner;  // id -> address of the node holding it
  for (const auto& [addr, a] : agents_) {
    const Membership* m = a->driver->membership();
    if (m != nullptr && !m->conflicted()) owner[m->self()] = addr;
  }
  const std::vector<proto::Edge>* reference_edges = nullptr;
  std::vector<proto::Edge> first_edges;
  for (const std::string& addr : alive) {
    const Membership& m = Node(addr);
    const std::string who = addr + " (id " + std::to_string(m.self()) + ")";
    for (const proto::MemberRecord& r : m.Members()) {
      const bool should_live = expected.count(r.id) != 0;
      const bool is_alive = r.state == MemberState::kAlive;
      const bool is_gone = r.state == MemberState::kDead || r.state == MemberState::kLeft;
      if (should_live ? !is_alive : !is_gone) {
        report.reason = who + " sees " + std::to_string(r.id) + " as " +
                        agent::core::MemberStateName(r.state);
        return report;
      }
      if (should_live) {
        if (owner[r.id] != r.addr) {
          report.reason = who + " maps id " + std::to_string(r.id) + " to " + r.addr;
          return report;
        }
      }
    }
    for (NodeId id : expected) {
      if (m.table().Find(id) == nullptr) {
        report.reason = who + " does not know " + std::to_string(id);
        return report;
      }
    }
    std::vector<proto::Edge> edges = m.table().Edges();
    if (reference_edges == nullptr) {
      first_edges = std::move(edges);
      reference_edges = &first_edges;
    } else if (edges != *reference_edges) {
      report.reason = who + " has a different edge set (" + std::to_string(edges.size()) +
                      " vs " + std::to_string(reference_edges->size()) + " edges)";
      return report;
    }
    if (m.table().LiveComponents().size() != 1) {
      report.reason = who + " sees a disconnected live graph";
      return report;
    }
    if (!agent::core::PickRepairTargets(m.table(), m.self(), m.config().min_degree,
                                        m.config().max_degree)
             .empty()) {
      report.reason = who + " still has to repair its degree";
      return report;
    }
  }
  report.ok = true;
  return report;
}

}  // namespace grapevine::sim
