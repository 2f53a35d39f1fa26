// Connection: one TCP connection to a peer or a CLI client, after DESIGN §3.
//
// Moves bytes and nothing else: a handshake coroutine (Hello, optional HMAC
// challenge-response), then one reader and one writer coroutine. Framing is proto's:
// the reader receives straight into the memory a proto::FrameDecoder prepares (model
// frames into this connection's ReceiveBuffers pool) and hands the decoded
// proto::Envelope to Callbacks::on_envelope; the writer writes the batches of a
// proto::FrameEncoder and drains a bounded outbound queue in which a newer gossip
// model replaces an older one that has not started to go out. With a secret, the
// frame stages of proto::MacStages seal and open every frame after the handshake.
// Protocol decisions are made by the owner (Node), never here.
//
// Thread-safety: every member function must be called on the io_context's thread
// (the network thread). Owned by shared_ptr; the coroutines keep it alive until both
// have finished.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/core/transport.h"
#include "agent/net/receive_buffers.h"
#include "base/status.h"
#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/frame_stage.h"
#include "proto/framer.h"
#include "proto/messages.h"

namespace grapevine::agent::net {

namespace asio = boost::asio;
using asio::ip::tcp;

struct ConnectionOptions {
  uint32_t max_frame_bytes = 256u << 20;          // after the handshake
  uint32_t handshake_frame_bytes = 64u << 10;     // before it: strangers get little
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds idle_timeout{30000};  // no byte read for this long: close
  size_t max_queued_frames = 1024;                // control frames; oldest dropped beyond
  const proto::Secret* secret = nullptr;          // null: open swarm
  bool initiator = false;                         // we dialled (keys differ per direction)
};

// What a queued frame is, so the writer can coalesce models.
enum class SendClass { kControl, kGossipModel };

class Connection : public core::Link, public std::enable_shared_from_this<Connection> {
 public:
  // core::Link: the peer's id once the handshake finished (kNoNode before, and for
  // clients and joiners), and whether it said it is a client.
  proto::NodeId peer_id() const override { return ready_ ? peer_hello_.id : proto::kNoNode; }
  bool is_client() const override { return peer_hello_.client; }
  struct Callbacks {
    // Handshake (and authentication) finished; peer_hello() is valid.
    std::function<void(const std::shared_ptr<Connection>&)> on_ready;
    std::function<void(const std::shared_ptr<Connection>&, proto::Envelope&&)> on_envelope;
    // Called once, when the connection is gone; `why` is OK for a clean close.
    std::function<void(const std::shared_ptr<Connection>&, const Status& why)> on_closed;
  };

  Connection(tcp::socket socket, ConnectionOptions options, Callbacks callbacks,
             proto::Hello my_hello, std::string label);
  ~Connection();

  void Start();
  // Queues a message; dropped silently (counted) when closed or the queue is full.
  void Send(std::shared_ptr<const proto::EncodedMessage> msg, SendClass cls = SendClass::kControl);
  void Send(const proto::Envelope& env) {
    Send(std::make_shared<const proto::EncodedMessage>(proto::Encode(env)));
  }
  void Close(const Status& why);
  // Graceful close of a duplicate link: accepts no new messages, writes what is
  // queued, then half-closes; keeps reading (and delivering) until the peer, which
  // retires the same link, half-closes too. Nothing either side sent on it is lost.
  // A link that is not gone after kRetireTimeout is closed.
  void Retire();
  static constexpr std::chrono::seconds kRetireTimeout{10};

  bool ready() const { return ready_; }
  bool initiator() const { return options_.initiator; }
  bool closed() const { return closed_; }
  const proto::Hello& peer_hello() const { return peer_hello_; }
  const std::string& label() const { return label_; }
  std::string remote_endpoint() const { return remote_; }
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_out() const { return bytes_out_; }
  const core::Transport::TrafficBytes& bytes_out_by_traffic() const { return by_traffic_; }
  uint64_t frames_dropped() const { return frames_dropped_; }
  uint64_t models_superseded() const { return models_superseded_; }

 private:
  struct Outgoing {
    std::shared_ptr<const proto::EncodedMessage> msg;
    SendClass cls;
  };

  asio::awaitable<void> Run();
  asio::awaitable<void> Handshake();
  asio::awaitable<void> ReadLoop();
  asio::awaitable<void> WriteLoop();
  asio::awaitable<void> Watchdog();
  // Reads one frame; Status errors mean "drop the connection".
  asio::awaitable<Result<proto::Envelope>> ReadEnvelope();
  asio::awaitable<void> WriteFrame(const proto::EncodedMessage& msg);
  void Fail(const Status& why);

  tcp::socket socket_;
  ConnectionOptions options_;
  Callbacks callbacks_;
  proto::Hello my_hello_;
  proto::Hello peer_hello_;
  std::string label_;
  std::string remote_;
  std::deque<Outgoing> queue_;
  asio::steady_timer queue_signal_;
  asio::steady_timer watchdog_;
  std::chrono::steady_clock::time_point last_read_;
  // Model-sized frames: recycled buffers the decoded values keep viewing.
  std::shared_ptr<ReceiveBuffers> rx_big_ = std::make_shared<ReceiveBuffers>();
  proto::FrameDecoder decoder_;  // reader only; limit and opener change between frames
  proto::FrameEncoder encoder_;  // whoever writes (handshake, then the write loop)
  std::vector<asio::const_buffer> write_buffers_;
  // Set once both sides proved the secret. The encoder seals with it after our
  // AuthResult, the decoder opens with it after the peer's.
  proto::FrameStages stages_;
  bool ready_ = false;
  bool closed_ = false;
  bool retiring_ = false;
  bool read_done_ = false;  // retiring: the peer half-closed before we did
  bool write_shut_ = false;
  std::chrono::steady_clock::time_point retire_started_;
  void ShutdownWriteIfDrained();
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  core::Transport::TrafficBytes by_traffic_{};
  uint64_t frames_dropped_ = 0;
  uint64_t models_superseded_ = 0;
};

}  // namespace grapevine::agent::net
