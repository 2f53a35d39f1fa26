#include "tests/sim/sim_network.h"

#include <algorithm>
#include <type_traits>

#include "agent/core/graph_policy.h"
#include "base/check.h"

namespace grapevine::sim {

using agent::core::Actions;
using agent::core::MemberTable;
using proto::MemberState;
using proto::NodeId;

SimNetwork::SimNetwork(uint64_t seed, Duration tick) : tick_(tick), rng_(seed) {}

Membership& SimNetwork::AddNode(std::unique_ptr<Membership> m) {
  const std::string addr = m->self_addr();
  GV_CHECK(nodes_.count(addr) == 0);
  Slot& slot = nodes_[addr];
  slot.membership = std::move(m);
  return *slot.membership;
}

Membership& SimNetwork::ReplaceNode(std::unique_ptr<Membership> m) {
  Slot& slot = nodes_.at(m->self_addr());
  slot.membership = std::move(m);
  slot.crashed = false;
  return *slot.membership;
}

Membership& SimNetwork::Node(const std::string& addr) { return *nodes_.at(addr).membership; }
const Membership& SimNetwork::Node(const std::string& addr) const {
  return *nodes_.at(addr).membership;
}

const std::vector<agent::core::Event>& SimNetwork::Events(const std::string& addr) const {
  return nodes_.at(addr).events;
}

std::vector<std::string> SimNetwork::Running() const {
  std::vector<std::string> out;
  for (const auto& [addr, slot] : nodes_) {
    if (!slot.crashed && !slot.membership->has_left()) out.push_back(addr);
  }
  return out;
}

void SimNetwork::SetLatency(Duration min, Duration max) {
  latency_min_ = min;
  latency_max_ = max;
}

void SimNetwork::SetLinkLatency(const std::string& a, const std::string& b, Duration latency) {
  link_latency_[{std::min(a, b), std::max(a, b)}] = latency;
}

void SimNetwork::SetDropRate(double p) { drop_rate_ = p; }

void SimNetwork::Crash(const std::string& addr) { nodes_.at(addr).crashed = true; }

void SimNetwork::Partition(const std::vector<std::vector<std::string>>& groups) {
  group_.clear();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    for (const std::string& addr : groups[g]) group_[addr] = static_cast<int>(g);
  }
}

void SimNetwork::Heal() { group_.clear(); }

bool SimNetwork::CanTalk(const std::string& a, const std::string& b) const {
  auto group = [&](const std::string& x) {
    auto it = group_.find(x);
    return it == group_.end() ? 0 : it->second;
  };
  return group(a) == group(b);
}

Duration SimNetwork::LatencyFor(const std::string& a, const std::string& b) {
  auto it = link_latency_.find({std::min(a, b), std::max(a, b)});
  if (it != link_latency_.end()) return it->second;
  return Duration(std::uniform_int_distribution<int64_t>(latency_min_.count(),
                                                         latency_max_.count())(rng_));
}

std::string SimNetwork::AddrOf(NodeId id) const {
  for (const auto& [addr, slot] : nodes_) {
    if (slot.membership->self() == id && !slot.membership->conflicted()) return addr;
  }
  return {};
}

void SimNetwork::Transmit(const std::string& from, const std::string& to, proto::Envelope env) {
  ++sent_;
  // Draw both random numbers every time so a drop does not shift later draws. Join
  // requests and replies are never dropped at random: the net layer retries a join
  // until it gets a reply, which this simulator does not model.
  const bool join = std::holds_alternative<proto::JoinRequest>(env.body) ||
                    std::holds_alternative<proto::JoinReply>(env.body);
  const bool drop = std::bernoulli_distribution(drop_rate_)(rng_) && !join;
  const Duration latency = LatencyFor(from, to);
  if (drop || nodes_.count(to) == 0) {
    ++dropped_;
    return;
  }
  in_flight_.push(InFlight{now() + latency, next_order_++, from, to, std::move(env)});
}

void SimNetwork::Perform(const std::string& from, Actions actions) {
  Slot& slot = nodes_.at(from);
  slot.events.insert(slot.events.end(), actions.events.begin(), actions.events.end());
  for (const agent::core::Event& e : actions.events) {
    if (e.kind == agent::core::EventKind::kIdConflict) pending_rejoins_.push_back(from);
  }
  for (agent::core::Outgoing& out : actions.send) {
    const std::string to = out.addr.empty() ? AddrOf(out.to) : out.addr;
    proto::Envelope env = slot.membership->Wrap(std::move(out));
    if (to.empty()) {
      ++sent_;
      ++dropped_;
      continue;
    }
    Transmit(from, to, std::move(env));
  }
}

void SimNetwork::Deliver(InFlight& msg) {
  Slot& from = nodes_.at(msg.from);
  Slot& to = nodes_.at(msg.to);
  if (from.crashed || to.crashed || !CanTalk(msg.from, msg.to)) {
    ++dropped_;
    return;
  }
  Membership& m = *to.membership;
  if (on_deliver) on_deliver(msg.from, msg.to, msg.env);
  if (const auto* request = std::get_if<proto::JoinRequest>(&msg.env.body)) {
    auto [reply, actions] = m.HandleJoin(*request, now());
    Perform(msg.to, std::move(actions));
    Transmit(msg.to, msg.from, m.Wrap(agent::core::Outgoing{proto::kNoNode, msg.from, reply}));
    return;
  }
  if (const auto* reply = std::get_if<proto::JoinReply>(&msg.env.body)) {
    if (m.self() != proto::kNoNode) return;  // a duplicate reply
    auto result = m.ApplyJoinReply(*reply, now());
    if (result.ok()) Perform(msg.to, std::move(result).value());
    return;
  }
  Perform(msg.to, m.OnMessage(msg.env.sender, msg.env, now()));
}

void SimNetwork::StartJoin(const std::string& joiner, const std::string& member) {
  join_via_[joiner] = member;
  proto::JoinRequest request;
  request.listen_addr = joiner;
  Transmit(joiner, member, Node(joiner).Wrap(agent::core::Outgoing{proto::kNoNode, member,
                                                                    request}));
}

void SimNetwork::Leave(const std::string& addr) {
  Perform(addr, Node(addr).Leave(now()));
}

void SimNetwork::Step() {
  for (const std::string& addr : pending_rejoins_) {
    const Membership& old = Node(addr);
    ReplaceNode(std::make_unique<Membership>(old.config(), proto::kNoNode, addr,
                                             rng_() ^ static_cast<uint64_t>(++rejoins_)));
    StartJoin(addr, join_via_.at(addr));
  }
  pending_rejoins_.clear();
  clock_.Advance(tick_);
  while (!in_flight_.empty() && in_flight_.top().at <= now()) {
    InFlight msg = in_flight_.top();
    in_flight_.pop();
    Deliver(msg);
  }
  for (auto& [addr, slot] : nodes_) {
    if (!slot.crashed) Perform(addr, slot.membership->OnTick(now()));
  }
}

void SimNetwork::RunFor(Duration d) {
  const TimePoint end = now() + d;
  while (now() < end) Step();
}

Duration SimNetwork::RunUntil(const std::function<bool()>& pred, Duration limit) {
  const TimePoint start = now();
  while (now() - start < limit) {
    Step();
    if (pred()) return now() - start;
  }
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
  for (const auto& [addr, slot] : nodes_) {
    if (!slot.membership->conflicted()) owner[slot.membership->self()] = addr;
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
