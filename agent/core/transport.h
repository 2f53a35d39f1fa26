// Transport: how a Node reaches other agents — the seam between the peer's protocol
// logic (agent/node*.cc) and the bytes (DESIGN §2, §9). LevelDB's Env is the model: the
// Node is handed one Transport and one Clock and never builds either itself.
//
// Implementations:
//  - net::Network (agent/net/network.h): TCP sessions on an Asio io_context thread;
//    what `grapevine agent` runs.
//  - sim::MemoryTransport (agent/sim/memory_transport.h): an in-memory network over a
//    virtual clock; whole swarms of Nodes in one process, no sockets, no sleeps.
//
// The transport owns a "network thread": every handler and every call marked
// "network thread" below runs there, one at a time, so the protocol state it touches
// needs no locks. Post() and Stop() may be called from any thread.
//
// A Link is one connection as the Node sees it: only who is at the other end. Replies
// to requests from anonymous peers (joiners, `topo live` clients) go back on the link
// they came from.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "proto/messages.h"

namespace grapevine::proto {
class EncodedMessage;
}  // namespace grapevine::proto

namespace grapevine::agent::core {

class Link {
 public:
  virtual ~Link() = default;
  // The authenticated node id of the other end; kNoNode for clients, joiners and links
  // whose handshake has not finished.
  virtual proto::NodeId peer_id() const = 0;
  // The other end said it is a client (status requests only, never a member).
  virtual bool is_client() const = 0;
};
using LinkPtr = std::shared_ptr<Link>;

class Transport {
 public:
  struct Handlers {
    std::function<void(const LinkPtr&, proto::Envelope&&)> on_envelope;
    std::function<void(proto::NodeId)> on_peer_up;
    std::function<void(proto::NodeId, const Status&)> on_peer_down;
    std::function<void(int signal)> on_signal;  // SIGINT/SIGTERM where the transport has them
  };

  virtual ~Transport() = default;

  // Before Start().
  virtual void SetHandlers(Handlers handlers) = 0;
  // Before Start(): bind "host:port" (port 0: any free port).
  virtual Status Listen(const std::string& addr) = 0;
  virtual std::string listen_addr() const = 0;
  // Starts the network thread.
  virtual void Start() = 0;
  // Closes every link, stops the network thread. Idempotent; any thread.
  virtual void Stop() = 0;
  // Runs fn on the network thread (any thread).
  virtual void Post(std::function<void()> fn) = 0;
  // Calls fn on the network thread every `period` of the transport's clock until Stop().
  virtual void Every(std::chrono::milliseconds period, std::function<void()> fn) = 0;

  // ---- network thread only ----
  // The identity this agent presents on new links (kNoNode: none, like a joiner).
  virtual void SetIdentity(proto::NodeId id, uint64_t incarnation) = 0;
  // Queues msg for member `to` at `addr` (dialled when no link exists). gossip_model:
  // a newer model may replace this one while it waits. False when it cannot be queued.
  virtual bool Send(proto::NodeId to, const std::string& addr,
                    std::shared_ptr<const proto::EncodedMessage> msg,
                    bool gossip_model = false) = 0;
  // Sends env back on the link a message came from.
  virtual void Reply(const LinkPtr& link, const proto::Envelope& env) = 0;
  // Keeps links to exactly these members open (dials the missing ones).
  virtual void KeepConnected(const std::map<proto::NodeId, std::string>& peers) = 0;
  virtual bool Connected(proto::NodeId id) const = 0;
  // A one-off link to an address without a member id (joining, answering a joiner).
  virtual void DialAnonymous(const std::string& addr,
                             std::function<void(const LinkPtr&)> on_ready,
                             std::function<void(const Status&)> on_fail) = 0;
  virtual void CloseAll() = 0;
  // Closes every peer link and forgets the peers, but keeps listening (the node lost its
  // id in a join race and joins again under a new one).
  virtual void DropPeers() = 0;
  // Counters; any thread.
  virtual uint64_t bytes_in() const = 0;
  virtual uint64_t bytes_out() const = 0;
  // bytes_out() split by what the frames carried (proto::TrafficClass).
  using TrafficBytes = std::array<uint64_t, proto::kTrafficClassCount>;
  virtual TrafficBytes bytes_out_by_traffic() const = 0;
  // bytes_out() to each member id, over the agent's life (frames to anonymous links —
  // joiners, clients — are not in it). Network thread only.
  virtual std::map<proto::NodeId, uint64_t> bytes_out_by_peer() const = 0;
  virtual uint64_t models_superseded() const = 0;
};

}  // namespace grapevine::agent::core
