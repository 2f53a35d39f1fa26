// MemoryNetwork / MemoryTransport: an in-memory core::Transport for whole swarms of
// Nodes in one process (tests, simulations), on a SimLoop's virtual time.
//
// Every message goes through the real codec (proto::Encode on the sender's side, the
// bytes flattened, proto::Decode on the receiver's), so what a Node receives is what it
// would read off a socket, and bytes are counted as on the wire (payload + frame
// header). Delivery is a task on the loop after the link's latency (0 by default);
// messages between agents that a partition separates, or to or from a crashed or
// stopped agent, are dropped as a dead link would drop them. There is no handshake:
// a message carries the sender's current identity (SetIdentity), or none when it was
// sent on an anonymous link (DialAnonymous, and replies to anonymous senders).
//
// Thread-safety: as core::Transport — handlers and "network thread" calls run on the
// SimLoop's thread; Post/Stop from any thread. The network outlives its transports.
#pragma once

#include <atomic>
#include <map>
#include <random>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "agent/core/transport.h"
#include "agent/sim/sim_loop.h"

namespace grapevine::agent::sim {

class MemoryTransport;

class MemoryNetwork {
 public:
  // `seed` drives the random latencies and losses below.
  explicit MemoryNetwork(SimLoop& loop, uint64_t seed = 1) : loop_(loop), rng_(seed) {}
  MemoryNetwork(const MemoryNetwork&) = delete;
  MemoryNetwork& operator=(const MemoryNetwork&) = delete;

  SimLoop& loop() { return loop_; }
  // A transport for one agent; it is reachable once it Listen()s.
  std::unique_ptr<MemoryTransport> NewTransport();

  // ---- faults (loop thread, or before the loop runs) ----
  // Every message takes a latency drawn uniformly from [min, max] (default 0), unless
  // its link has its own (both directions).
  void SetLatency(core::Duration min, core::Duration max) {
    latency_min_ = min;
    latency_max_ = max;
  }
  void SetLinkLatency(const std::string& a, const std::string& b, core::Duration latency);
  // Each message is lost with probability p — except join requests and replies, which
  // the TCP transport would retry on a fresh link (lossy-link emulation for the
  // membership protocol; TCP itself never loses a message on a live link).
  void SetDropRate(double p) { drop_rate_ = p; }
  // Agents in different groups cannot exchange messages; unlisted addresses: group 0.
  void Partition(const std::vector<std::vector<std::string>>& groups);
  void Heal() { group_.clear(); }

  uint64_t messages_sent() const { return sent_; }
  uint64_t messages_dropped() const { return dropped_; }

 private:
  friend class MemoryTransport;
  bool CanTalk(const std::string& a, const std::string& b) const;
  MemoryTransport* Find(const std::string& addr) const;
  core::Duration LatencyFor(const std::string& a, const std::string& b);
  bool Drop();

  SimLoop& loop_;
  std::mt19937_64 rng_;
  core::Duration latency_min_{0}, latency_max_{0};
  std::map<std::pair<std::string, std::string>, core::Duration> link_latency_;
  double drop_rate_ = 0;
  uint64_t sent_ = 0, dropped_ = 0;
  std::map<std::string, MemoryTransport*> listeners_;
  std::map<std::string, int> group_;
};

class MemoryTransport final : public core::Transport {
 public:
  ~MemoryTransport() override;

  void SetHandlers(Handlers handlers) override { handlers_ = std::move(handlers); }
  Status Listen(const std::string& addr) override;
  std::string listen_addr() const override { return addr_; }
  void Start() override { started_ = true; }
  void Stop() override;
  void Post(std::function<void()> fn) override;
  void Every(std::chrono::milliseconds period, std::function<void()> fn) override;

  void SetIdentity(proto::NodeId id, uint64_t incarnation) override;
  bool Send(proto::NodeId to, const std::string& addr,
            std::shared_ptr<const proto::EncodedMessage> msg, bool gossip_model) override;
  void Reply(const core::LinkPtr& link, const proto::Envelope& env) override;
  void KeepConnected(const std::map<proto::NodeId, std::string>& peers) override;
  bool Connected(proto::NodeId id) const override;
  void DialAnonymous(const std::string& addr, std::function<void(const core::LinkPtr&)> on_ready,
                     std::function<void(const Status&)> on_fail) override;
  void CloseAll() override { peers_.clear(); }
  void DropPeers() override { peers_.clear(); }
  uint64_t bytes_in() const override { return bytes_in_; }
  uint64_t bytes_out() const override { return bytes_out_; }
  TrafficBytes bytes_out_by_traffic() const override {
    TrafficBytes out;
    for (size_t k = 0; k < out.size(); ++k) out[k] = by_traffic_[k];
    return out;
  }
  std::map<proto::NodeId, uint64_t> bytes_out_by_peer() const override {
    std::lock_guard<std::mutex> lock(by_peer_mu_);
    return by_peer_;
  }
  uint64_t models_superseded() const override { return 0; }

  // The agent crashed: nothing reaches it or leaves it from now on.
  void Crash() { crashed_ = true; }
  // Listening and neither stopped nor crashed: messages reach it (as a listening
  // socket accepts before the agent's loop starts).
  bool alive() const { return !addr_.empty() && !stopped_ && !crashed_; }

 private:
  friend class MemoryNetwork;
  class Link;
  explicit MemoryTransport(MemoryNetwork& net) : net_(net) {}
  // Delivers msg from this transport to `to` after the latency; `anonymous`: the
  // receiver sees no sender id (and replies on an anonymous link).
  bool Deliver(MemoryTransport* to, std::shared_ptr<const proto::EncodedMessage> msg,
               bool anonymous);
  void Receive(const std::string& from_addr, std::shared_ptr<const proto::EncodedMessage> msg,
               bool anonymous);

  MemoryNetwork& net_;
  Handlers handlers_;
  std::string addr_;
  std::atomic<proto::NodeId> id_{proto::kNoNode};
  std::map<proto::NodeId, std::string> peers_;  // KeepConnected / Send targets
  std::atomic<bool> started_{false}, stopped_{false}, crashed_{false};
  std::atomic<uint64_t> bytes_in_{0}, bytes_out_{0};
  std::array<std::atomic<uint64_t>, proto::kTrafficClassCount> by_traffic_{};
  mutable std::mutex by_peer_mu_;
  std::map<proto::NodeId, uint64_t> by_peer_;  // guarded by by_peer_mu_
  std::shared_ptr<bool> alive_token_ = std::make_shared<bool>(true);
};

}  // namespace grapevine::agent::sim
