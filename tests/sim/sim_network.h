// SimNetwork: whole-cluster tests of the membership protocol — many agents' real
// MembershipDriver (agent/membership_driver.h, the code the Node runs) on the
// in-memory transport and virtual time (agent/sim/). No threads, sockets or sleeps, and
// no routing of its own: joins, re-joins after an id race, membership gossip and
// failure detection all run exactly as in `grapevine agent`. Seeded: a run is a pure
// function of its seed.
//
// Single-threaded test fixture.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/clock.h"
#include "agent/core/membership.h"
#include "agent/membership_driver.h"
#include "agent/sim/memory_transport.h"
#include "agent/sim/sim_loop.h"

namespace grapevine::sim {

using agent::core::Duration;
using agent::core::Membership;
using agent::core::TimePoint;

struct ConvergenceReport {
  bool ok = false;
  std::string reason;  // first discrepancy found, for test output
};

class SimNetwork {
 public:
  // `tick`: the agents' tick period (the Node's is 50 ms).
  SimNetwork(uint64_t seed, Duration tick);
  ~SimNetwork();

  // A member of the initial swarm (a topology file): id, address, everyone's records.
  void AddMember(proto::NodeId id, const std::string& addr, uint64_t seed,
                 const std::vector<proto::MemberRecord>& members,
                 const std::vector<proto::Edge>& edges);
  // A joiner listening on `addr`; StartJoin() makes it ask a member.
  void AddJoiner(const std::string& addr, uint64_t seed);
  void StartJoin(const std::string& joiner, const std::string& member);
  // The agent's membership (a placeholder without an id between identities).
  const Membership& Node(const std::string& addr) const;
  std::vector<std::string> Running() const;  // addresses not crashed and not left, sorted
  // Join races lost (and joined again) so far.
  int rejoins() const { return rejoins_; }

  void SetLatency(Duration min, Duration max) { net_.SetLatency(min, max); }
  void SetLinkLatency(const std::string& a, const std::string& b, Duration latency) {
    net_.SetLinkLatency(a, b, latency);
  }
  void SetDropRate(double p) { net_.SetDropRate(p); }
  // Crash: the agent stops; messages to and from it vanish.
  void Crash(const std::string& addr);
  void Partition(const std::vector<std::vector<std::string>>& groups) { net_.Partition(groups); }
  void Heal() { net_.Heal(); }
  // Graceful leave: the agent announces it and stops.
  void Leave(const std::string& addr);

  void RunFor(Duration d);
  // Runs until pred() holds (checked after every task) or `limit` passes; returns the
  // elapsed simulated time, or a negative duration on timeout.
  Duration RunUntil(const std::function<bool()>& pred, Duration limit);

  // All `alive` nodes agree: exactly those nodes are alive, every other known id is
  // dead or left (none suspect), edge sets are identical, the live graph is connected,
  // and no node still wants to repair its degree.
  ConvergenceReport CheckConverged(const std::vector<std::string>& alive) const;

  TimePoint now() const { return clock_.Now(); }
  // Events each agent's membership reported, in order.
  const std::vector<agent::core::Event>& Events(const std::string& addr) const;
  uint64_t messages_sent() const { return net_.messages_sent(); }
  uint64_t messages_dropped() const { return net_.messages_dropped(); }

 private:
  struct Agent;
  Agent& Add(const std::string& addr, uint64_t seed, const std::string& join_via);
  void MakeDriver(Agent& a, const std::string& join_via);

  agent::core::ManualClock clock_;
  agent::sim::SimLoop loop_;
  agent::sim::MemoryNetwork net_;
  Duration tick_;
  std::map<std::string, std::unique_ptr<Agent>> agents_;
  int rejoins_ = 0;
  Membership placeholder_;
};

}  // namespace grapevine::sim
