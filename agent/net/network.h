// Network: the agent's network thread behind an Asio-free interface.
//
// Owns the io_context, the thread that runs it, the signal set for SIGINT/SIGTERM and
// the PeerPool. Everything above agent/net (node.cc, tools/) talks to the network only
// through this header, so only agent/net includes Asio (DESIGN §1).
//
// Thread-safety: Post() and Stop() may be called from any thread. Every other member
// function, and every handler, runs on the network thread only.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/messages.h"

namespace grapevine::agent::net {

class Connection;
using ConnectionPtr = std::shared_ptr<Connection>;

enum class SendClass;

struct NetworkOptions {
  uint32_t max_frame_bytes = 256u << 20;
  std::chrono::milliseconds idle_timeout{30000};
  const proto::Secret* secret = nullptr;  // must outlive the Network
  bool handle_signals = true;             // SIGINT/SIGTERM → handlers.on_signal
};

class Network {
 public:
  struct Handlers {
    std::function<void(const ConnectionPtr&, proto::Envelope&&)> on_envelope;
    std::function<void(proto::NodeId)> on_peer_up;
    std::function<void(proto::NodeId, const Status&)> on_peer_down;
    std::function<void(int signal)> on_signal;
  };

  Network(NetworkOptions options, Handlers handlers);
  ~Network();  // Stop()
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Before Start(): bind. "host:port" (port 0: any free port).
  Status Listen(const std::string& addr);
  std::string listen_addr() const;
  // Runs the io_context on a new thread.
  void Start();
  // Closes every connection, stops the loop and joins the thread. Idempotent.
  void Stop();
  // Runs fn on the network thread (from any thread).
  void Post(std::function<void()> fn);
  // Calls fn on the network thread every `period` until Stop().
  void Every(std::chrono::milliseconds period, std::function<void()> fn);

  // ---- network thread only ----
  void SetIdentity(proto::NodeId id, uint64_t incarnation);
  bool Send(proto::NodeId to, const std::string& addr,
            std::shared_ptr<const proto::EncodedMessage> msg, bool gossip_model = false);
  void Reply(const ConnectionPtr& conn, const proto::Envelope& env);
  void KeepConnected(const std::map<proto::NodeId, std::string>& peers);
  bool Connected(proto::NodeId id) const;
  void DialAnonymous(const std::string& addr, std::function<void(const ConnectionPtr&)> on_ready,
                     std::function<void(const Status&)> on_fail);
  void CloseAll();
  // Closes every peer connection and forgets the peers, but keeps listening (the node
  // lost its id in a join race and joins again under a new one).
  void DropPeers();
  uint64_t bytes_in() const;
  uint64_t bytes_out() const;
  uint64_t models_superseded() const;

  // Peer identity of a connection (kNoNode for clients and joiners).
  static proto::NodeId PeerId(const ConnectionPtr& conn);
  static bool IsClient(const ConnectionPtr& conn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grapevine::agent::net
