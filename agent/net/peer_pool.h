// PeerPool: the listener and every connection of one agent, keyed by peer node id.
//
// Accepts connections (surviving accept errors), dials peers on demand and keeps
// persistent links to the peers it is told to keep (graph neighbours), redialling
// with exponential backoff. When two nodes dial each other at once, both keep the
// connection initiated by the lower id, so each pair ends up with one connection.
// Connections from CLI clients and not-yet-joined nodes are tracked separately.
//
// Thread-safety: network thread only (every call, every callback).
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "agent/net/connection.h"

namespace grapevine::agent::net {

class PeerPool {
 public:
  struct Callbacks {
    // An envelope from an identified peer (id != kNoNode) or an anonymous connection.
    std::function<void(const std::shared_ptr<Connection>&, proto::Envelope&&)> on_envelope;
    std::function<void(proto::NodeId)> on_peer_up;
    std::function<void(proto::NodeId, const Status&)> on_peer_down;
  };

  PeerPool(asio::io_context& io, ConnectionOptions options, Callbacks callbacks);
  ~PeerPool();

  // Binds and starts accepting. "host:port"; port 0 picks a free one.
  Status Listen(const std::string& addr);
  std::string listen_addr() const { return listen_addr_; }

  // Identity presented in Hello on every new connection.
  void SetIdentity(proto::NodeId id, uint64_t incarnation, const std::string& listen_addr);

  // Queues a message for node `to`, dialling `addr` if there is no connection yet.
  // Returns false when it had to be dropped (no address known).
  bool Send(proto::NodeId to, const std::string& addr,
            std::shared_ptr<const proto::EncodedMessage> msg, SendClass cls);
  // Peers to keep connected (redialled with backoff); others are dialled on demand.
  void KeepConnected(const std::map<proto::NodeId, std::string>& peers);
  bool Connected(proto::NodeId id) const;

  // Dials an address without knowing who is there (joining through a seed, telling
  // a join-race loser at its address). The connection only carries that exchange: it
  // is never adopted as a peer's link, whatever id the other side presents.
  void DialAnonymous(const std::string& addr,
                     std::function<void(const std::shared_ptr<Connection>&)> on_ready,
                     std::function<void(const Status&)> on_fail);

  void CloseAll(const Status& why);
  // Forgets every peer (its connection is closed, its queue, address and keep flag
  // dropped) but keeps listening: the node lost its identity and joins again.
  // Connections that are still dialling are adopted by id when they come up.
  void DropPeers(const Status& why);
  uint64_t bytes_in() const;
  uint64_t bytes_out() const;
  core::Transport::TrafficBytes bytes_out_by_traffic() const;
  std::map<proto::NodeId, uint64_t> bytes_out_by_peer() const;
  uint64_t models_superseded() const;

 private:
  struct Peer {
    std::shared_ptr<Connection> conn;   // chosen connection, may be null
    std::string addr;
    bool keep = false;
    bool dialling = false;
    std::chrono::milliseconds backoff{100};
    std::chrono::steady_clock::time_point next_dial{};
    std::deque<std::pair<std::shared_ptr<const proto::EncodedMessage>, SendClass>> pending;
  };

  asio::awaitable<void> AcceptLoop();
  asio::awaitable<void> Dial(proto::NodeId id);
  asio::awaitable<void> Maintain();
  std::shared_ptr<Connection> MakeConnection(tcp::socket socket, bool initiator,
                                             std::string label);
  void OnReady(const std::shared_ptr<Connection>& conn);
  void OnClosed(const std::shared_ptr<Connection>& conn, const Status& why);
  void Adopt(proto::NodeId id, const std::shared_ptr<Connection>& conn);

  asio::io_context& io_;
  ConnectionOptions options_;
  Callbacks callbacks_;
  tcp::acceptor acceptor_;
  asio::steady_timer maintain_timer_;
  std::string listen_addr_;
  proto::Hello hello_;
  std::map<proto::NodeId, Peer> peers_;
  struct SeedHook {
    std::function<void(const std::shared_ptr<Connection>&)> on_ready;
    std::function<void(const Status&)> on_fail;
  };
  std::map<const Connection*, SeedHook> seed_hooks_;  // DialAnonymous callers
  std::set<std::shared_ptr<Connection>> all_;  // every live connection, chosen or not
  uint64_t closed_bytes_in_ = 0;
  uint64_t closed_bytes_out_ = 0;
  core::Transport::TrafficBytes closed_by_traffic_{};
  std::map<proto::NodeId, uint64_t> closed_by_peer_;
  uint64_t closed_superseded_ = 0;
  bool stopped_ = false;
};

// Splits "host:port"; Status::Invalid naming the text when malformed.
Result<tcp::endpoint> ResolveEndpoint(asio::io_context& io, const std::string& addr);

}  // namespace grapevine::agent::net
