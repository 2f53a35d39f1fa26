// Network: the agent's network thread behind an Asio-free interface — the TCP
// implementation of core::Transport (agent/core/transport.h).
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

#include "agent/core/transport.h"
#include "base/status.h"
#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/messages.h"

namespace grapevine::agent::net {

class Connection;
using ConnectionPtr = std::shared_ptr<Connection>;
using core::LinkPtr;

enum class SendClass;

struct NetworkOptions {
  uint32_t max_frame_bytes = 256u << 20;
  std::chrono::milliseconds idle_timeout{30000};
  const proto::Secret* secret = nullptr;  // must outlive the Network
  bool handle_signals = true;             // SIGINT/SIGTERM → handlers.on_signal
};

// The contract of every member is core::Transport's; Every() uses the real clock.
class Network final : public core::Transport {
 public:
  using Handlers = core::Transport::Handlers;

  explicit Network(NetworkOptions options, Handlers handlers = {});
  ~Network() override;  // Stop()
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  void SetHandlers(Handlers handlers) override;
  Status Listen(const std::string& addr) override;
  std::string listen_addr() const override;
  // Runs the io_context on a new thread.
  void Start() override;
  // Closes every connection, stops the loop and joins the thread. Idempotent.
  void Stop() override;
  void Post(std::function<void()> fn) override;
  void Every(std::chrono::milliseconds period, std::function<void()> fn) override;

  // ---- network thread only ----
  void SetIdentity(proto::NodeId id, uint64_t incarnation) override;
  bool Send(proto::NodeId to, const std::string& addr,
            std::shared_ptr<const proto::EncodedMessage> msg, bool gossip_model = false) override;
  void Reply(const LinkPtr& link, const proto::Envelope& env) override;
  void KeepConnected(const std::map<proto::NodeId, std::string>& peers) override;
  bool Connected(proto::NodeId id) const override;
  void DialAnonymous(const std::string& addr, std::function<void(const LinkPtr&)> on_ready,
                     std::function<void(const Status&)> on_fail) override;
  void CloseAll() override;
  void DropPeers() override;
  uint64_t bytes_in() const override;
  uint64_t bytes_out() const override;
  TrafficBytes bytes_out_by_traffic() const override;
  std::map<proto::NodeId, uint64_t> bytes_out_by_peer() const override;
  uint64_t models_superseded() const override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace grapevine::agent::net
