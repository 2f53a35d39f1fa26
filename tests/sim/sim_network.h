// SimNetwork: an in-memory network and manual clock for whole-cluster tests of the
// membership protocol, with no threads, sockets or sleeps.
//
// It owns Membership instances (keyed by listen address, as a real network routes
// by address), wraps each Outgoing into an Envelope with the sender's Wrap() (so
// gossip piggybacks exactly as in production), and delivers it after a per-link
// latency unless the message is dropped (drop rate; never a join request or reply,
// which the net layer would retry), either end has crashed, or a
// partition separates the two ends. JoinRequest / JoinReply bodies are routed to
// HandleJoin / ApplyJoinReply, as the net layer does. Step() advances the clock by
// one tick, delivers what is due and ticks every running node, always in the same
// order, so a run is a pure function of its seed.
//
// Single-threaded test fixture.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "agent/core/clock.h"
#include "agent/core/membership.h"

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
  SimNetwork(uint64_t seed, Duration tick);

  // Takes ownership; the node is addressed by m->self_addr() from now on.
  Membership& AddNode(std::unique_ptr<Membership> m);
  // Replaces a node (e.g. a fresh instance re-joining after an id conflict).
  Membership& ReplaceNode(std::unique_ptr<Membership> m);
  Membership& Node(const std::string& addr);
  const Membership& Node(const std::string& addr) const;
  std::vector<std::string> Running() const;  // addresses not crashed and not left, sorted


  // One latency, drawn uniformly in [min, max] per message, unless a link override.
  void SetLatency(Duration min, Duration max);
  void SetLinkLatency(const std::string& a, const std::string& b, Duration latency);
  void SetDropRate(double p);
  // Crash: the node stops ticking; messages to and from it vanish.
  void Crash(const std::string& addr);
  // Nodes in different groups cannot exchange messages; unlisted nodes are in group 0.
  void Partition(const std::vector<std::vector<std::string>>& groups);
  void Heal();
  // The joiner (already added, self == kNoNode) sends a JoinRequest to `member`.
  // A node that later reports kIdConflict (it lost a join race) is replaced by a fresh
  // instance that joins again through the same member, as the node layer does.
  void StartJoin(const std::string& joiner, const std::string& member);
  int rejoins() const { return rejoins_; }
  void Leave(const std::string& addr);

  void Step();
  void RunFor(Duration d);
  // Steps until pred() holds (checked every step) or `limit` passes; returns the
  // elapsed simulated time, or a negative duration on timeout.
  Duration RunUntil(const std::function<bool()>& pred, Duration limit);

  // All `alive` nodes agree: exactly those nodes are alive, every other known id is
  // dead or left (none suspect), edge sets are identical, the live graph is connected,
  // and no node still wants to repair its degree.
  ConvergenceReport CheckConverged(const std::vector<std::string>& alive) const;

  // Observer called for every envelope handed to a node (tests and debugging).
  std::function<void(const std::string& from, const std::string& to, const proto::Envelope&)>
      on_deliver;

  TimePoint now() const { return clock_.Now(); }
  // Events each node's membership reported, in order.
  const std::vector<agent::core::Event>& Events(const std::string& addr) const;
  uint64_t messages_sent() const { return sent_; }
  uint64_t messages_dropped() const { return dropped_; }

 private:
  struct Slot {
    std::unique_ptr<Membership> membership;
    bool crashed = false;
    std::vector<agent::core::Event> events;
  };
  struct InFlight {
    TimePoint at;
    uint64_t order = 0;
    std::string from;
    std::string to;
    proto::Envelope env;
    bool operator>(const InFlight& o) const {
      return at != o.at ? at > o.at : order > o.order;
    }
  };

  void Perform(const std::string& from, agent::core::Actions actions);
  void Transmit(const std::string& from, const std::string& to, proto::Envelope env);
  void Deliver(InFlight& msg);
  bool CanTalk(const std::string& a, const std::string& b) const;
  std::string AddrOf(proto::NodeId id) const;
  Duration LatencyFor(const std::string& a, const std::string& b);

  agent::core::ManualClock clock_;
  Duration tick_;
  std::mt19937_64 rng_;
  std::map<std::string, Slot> nodes_;
  std::priority_queue<InFlight, std::vector<InFlight>, std::greater<>> in_flight_;
  uint64_t next_order_ = 0;
  Duration latency_min_ = std::chrono::milliseconds(1);
  Duration latency_max_ = std::chrono::milliseconds(5);
  std::map<std::pair<std::string, std::string>, Duration> link_latency_;
  double drop_rate_ = 0.0;
  std::map<std::string, int> group_;
  std::map<std::string, std::string> join_via_;  // joiner -> member it asked
  std::vector<std::string> pending_rejoins_;
  int rejoins_ = 0;
  uint64_t sent_ = 0;
  uint64_t dropped_ = 0;
};

}  // namespace grapevine::sim
