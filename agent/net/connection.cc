#include "agent/net/connection.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "proto/envelope_frame.h"

namespace grapevine::agent::net {

namespace {
constexpr size_t kReadChunk = 4u << 20;  // bytes per read op, so the watchdog sees progress
// On authenticated connections the MAC is computed chunk by chunk as bytes go out
// or come in; smaller chunks let the sender's and the receiver's MAC passes overlap.
constexpr size_t kMacChunk = 1u << 20;

// ReadEnvelope's status for an end of stream between frames: a clean close.
constexpr char kClosedByPeer[] = "closed by peer";

// Asio moves at most 64 KiB per system call by default; models are megabytes.
std::size_t LargeTransfers(const boost::system::error_code& ec, std::size_t) {
  return ec ? 0 : std::size_t{4} << 20;
}
using asio::awaitable;
using asio::use_awaitable;
}  // namespace

Connection::Connection(tcp::socket socket, ConnectionOptions options, Callbacks callbacks,
                       proto::Hello my_hello, std::string label)
    : socket_(std::move(socket)),
      options_(options),
      callbacks_(std::move(callbacks)),
      my_hello_(std::move(my_hello)),
      label_(std::move(label)),
      queue_signal_(socket_.get_executor()),
      watchdog_(socket_.get_executor()),
      last_read_(std::chrono::steady_clock::now()),
      // Big frames land in rx_big_ and are decoded zero-copy; until the handshake is
      // done, frames are limited to handshake_frame_bytes.
      decoder_(options_.handshake_frame_bytes, rx_big_.get()),
      encoder_(kMacChunk) {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  remote_ = ec ? std::string("?") : ep.address().to_string() + ":" + std::to_string(ep.port());
  socket_.set_option(tcp::no_delay(true), ec);
  my_hello_.auth_required = options_.secret != nullptr;
  if (options_.secret != nullptr) my_hello_.nonce = proto::RandomNonce();
}

Connection::~Connection() { rx_big_->Close(); }

void Connection::Start() {
  auto self = shared_from_this();
  asio::co_spawn(socket_.get_executor(), [self]() { return self->Run(); }, asio::detached);
  asio::co_spawn(socket_.get_executor(), [self]() { return self->Watchdog(); }, asio::detached);
}

void Connection::Send(std::shared_ptr<const proto::EncodedMessage> msg, SendClass cls) {
  if (closed_ || retiring_) {
    ++frames_dropped_;
    return;
  }
  if (cls == SendClass::kGossipModel) {
    for (auto& queued : queue_) {
      if (queued.cls == SendClass::kGossipModel) {  // not started yet: replace in place
        queued.msg = std::move(msg);
        ++models_superseded_;
        return;
      }
    }
  } else if (queue_.size() >= options_.max_queued_frames) {
    for (auto it = queue_.begin(); it != queue_.end(); ++it) {
      if (it->cls == SendClass::kControl) {
        queue_.erase(it);
        ++frames_dropped_;
        break;
      }
    }
  }
  queue_.push_back({std::move(msg), cls});
  queue_signal_.cancel_one();
}

void Connection::Close(const Status& why) { Fail(why); }

void Connection::Retire() {
  if (closed_ || retiring_) return;
  if (!ready_) return Fail(Status::Ok());  // nothing was sent on it yet
  retiring_ = true;
  retire_started_ = std::chrono::steady_clock::now();
  queue_signal_.cancel_one();  // an idle write loop wakes up and half-closes
}

void Connection::ShutdownWriteIfDrained() {
  if (!retiring_ || write_shut_ || !queue_.empty() || closed_) return;
  write_shut_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
}

void Connection::Fail(const Status& why) {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  queue_signal_.cancel();
  watchdog_.cancel();
  queue_.clear();
  if (callbacks_.on_closed) callbacks_.on_closed(shared_from_this(), why);
}

awaitable<void> Connection::Run() {
  auto self = shared_from_this();
  try {
    co_await Handshake();
    if (closed_) co_return;
    decoder_.set_max_frame_bytes(options_.max_frame_bytes);
    ready_ = true;
    if (callbacks_.on_ready) callbacks_.on_ready(self);
    asio::co_spawn(socket_.get_executor(), [self]() { return self->WriteLoop(); },
                   asio::detached);
    co_await ReadLoop();
  } catch (const boost::system::system_error& e) {
    Fail(e.code() == asio::error::eof ? Status::Ok() : Status::Unavailable(e.code().message()));
  } catch (const std::exception& e) {
    Fail(Status::Unavailable(e.what()));
  }
}

awaitable<void> Connection::Watchdog() {
  auto self = shared_from_this();
  const auto started = std::chrono::steady_clock::now();
  try {
    while (!closed_) {
      watchdog_.expires_after(std::chrono::milliseconds(250));
      co_await watchdog_.async_wait(asio::as_tuple(use_awaitable));
      if (closed_) break;
      auto now = std::chrono::steady_clock::now();
      if (!ready_ && now - started > options_.handshake_timeout) {
        Fail(Status::Unavailable("handshake timed out"));
      } else if (retiring_ && now - retire_started_ > kRetireTimeout) {
        Fail(Status::Ok());
      } else if (now - last_read_ > options_.idle_timeout) {
        Fail(Status::Unavailable("idle timeout: nothing received"));
      }
    }
  } catch (const std::exception& e) {
    Fail(Status::Internal(e.what()));
  }
}

awaitable<void> Connection::Handshake() {
  // Hello both ways; the frame header's version was checked by the reader.
  proto::Envelope hello_env;
  hello_env.sender = my_hello_.id;
  hello_env.incarnation = my_hello_.incarnation;
  hello_env.body = my_hello_;
  co_await WriteFrame(proto::Encode(hello_env));
  auto first = co_await ReadEnvelope();
  if (!first.ok()) co_return Fail(first.status());
  auto* hello = std::get_if<proto::Hello>(&first->body);
  if (hello == nullptr) co_return Fail(Status::Invalid("first message was not a hello"));
  if (hello->major != proto::kProtocolMajor) {
    co_return Fail(Status::Invalid("peer speaks protocol " + std::to_string(hello->major) + "." +
                                   std::to_string(hello->minor) + ", we speak " +
                                   std::to_string(proto::kProtocolMajor) + "." +
                                   std::to_string(proto::kProtocolMinor)));
  }
  peer_hello_ = *hello;

  const bool need_auth = options_.secret != nullptr || peer_hello_.auth_required;
  if (!need_auth) co_return;
  if (options_.secret == nullptr) {
    co_return Fail(Status::AuthFailed(
        "authentication failed: the peer requires the swarm secret (--secret-file)"));
  }
  const proto::Secret& secret = *options_.secret;
  proto::Envelope proof_env;
  proof_env.sender = my_hello_.id;
  proof_env.body = proto::AuthProof{
      proto::AuthProofFor(secret, peer_hello_.nonce, my_hello_.nonce, my_hello_.id)};
  co_await WriteFrame(proto::Encode(proof_env));

  auto theirs = co_await ReadEnvelope();
  const proto::AuthProof* proof = theirs.ok() ? std::get_if<proto::AuthProof>(&theirs->body)
                                              : nullptr;
  proto::Envelope verdict;
  verdict.sender = my_hello_.id;
  if (proof == nullptr || !peer_hello_.auth_required ||
      !proto::VerifyAuthProof(secret, my_hello_.nonce, peer_hello_.nonce, peer_hello_.id,
                              proof->mac)) {
    verdict.body = proto::AuthResult{false, "authentication failed"};
    co_await WriteFrame(proto::Encode(verdict));
    co_return Fail(Status::AuthFailed("authentication failed: peer " + remote_ +
                                      " did not prove the swarm secret"));
  }
  verdict.body = proto::AuthResult{true, ""};
  co_await WriteFrame(proto::Encode(verdict));
  // Nonce order is by role: the connection initiator's first (proto/auth.h).
  const auto& a = options_.initiator ? my_hello_.nonce : peer_hello_.nonce;
  const auto& b = options_.initiator ? peer_hello_.nonce : my_hello_.nonce;
  stages_ = proto::MacStages(secret, a, b, options_.initiator);
  encoder_.set_sealer(stages_.sealer.get());

  auto result = co_await ReadEnvelope();
  if (!result.ok()) co_return Fail(result.status());
  auto* ar = std::get_if<proto::AuthResult>(&result->body);
  if (ar == nullptr || !ar->ok) {
    co_return Fail(Status::AuthFailed("authentication failed: " + remote_ +
                                      " did not accept our proof of the swarm secret"));
  }
  decoder_.set_opener(stages_.opener.get());
}

awaitable<void> Connection::ReadLoop() {
  while (!closed_) {
    auto env = co_await ReadEnvelope();
    if (closed_) co_return;
    if (!env.ok()) {
      const bool clean = env.status().message() == kClosedByPeer;
      if (clean && retiring_ && !write_shut_) {
        read_done_ = true;  // the write loop closes once our queue is written
        co_return;
      }
      co_return Fail(clean ? Status::Ok() : env.status());
    }
    if (auto* unknown = std::get_if<proto::UnknownKind>(&env->body)) {
      proto::Envelope reply;
      reply.sender = my_hello_.id;
      reply.body = proto::Unimplemented{unknown->kind};
      Send(reply);
      continue;
    }
    if (std::holds_alternative<proto::Hello>(env->body) ||
        std::holds_alternative<proto::AuthProof>(env->body)) {
      continue;  // handshake messages after the handshake: ignore
    }
    if (callbacks_.on_envelope) callbacks_.on_envelope(shared_from_this(), std::move(*env));
  }
}

awaitable<void> Connection::WriteLoop() {
  auto self = shared_from_this();
  try {
    while (!closed_ && !write_shut_) {
      if (queue_.empty()) {
        ShutdownWriteIfDrained();
        if (write_shut_) {
          if (read_done_) Fail(Status::Ok());  // the peer had finished first
          break;
        }
        queue_signal_.expires_at(std::chrono::steady_clock::time_point::max());
        co_await queue_signal_.async_wait(asio::as_tuple(use_awaitable));
        continue;
      }
      auto next = std::move(queue_.front());
      queue_.pop_front();
      co_await WriteFrame(*next.msg);
    }
  } catch (const boost::system::system_error& e) {
    Fail(Status::Unavailable("write failed: " + e.code().message()));
  } catch (const std::exception& e) {
    Fail(Status::Unavailable(std::string("write failed: ") + e.what()));
  }
}

awaitable<void> Connection::WriteFrame(const proto::EncodedMessage& msg) {
  // Without a sealer the encoder hands out the whole frame as one gather list; with
  // one, kMacChunk of payload per batch, each sealed just before it is written, so the
  // MAC pass overlaps with the peer receiving and verifying what went before.
  encoder_.Begin(msg.Pieces());
  for (auto* batch = &encoder_.NextBatch(); !batch->empty(); batch = &encoder_.NextBatch()) {
    write_buffers_.clear();
    for (auto piece : *batch) write_buffers_.emplace_back(piece.data(), piece.size());
    const size_t wrote =
        co_await asio::async_write(socket_, write_buffers_, LargeTransfers, use_awaitable);
    bytes_out_ += wrote;
    by_traffic_[static_cast<size_t>(msg.traffic())] += wrote;
  }
}

awaitable<Result<proto::Envelope>> Connection::ReadEnvelope() {
  // The decoder says where the next bytes go (never past the current frame): the
  // header, the payload's own memory (a pooled block for models, which their decoded
  // values keep viewing), the MAC. The opener checks the MAC chunk by chunk as the
  // payload arrives; nothing is decoded before it verified.
  while (true) {
    if (auto frame = decoder_.Next()) co_return proto::OpenFrame(std::move(*frame));
    const size_t chunk = decoder_.opener() != nullptr ? kMacChunk : kReadChunk;
    std::span<uint8_t> space = decoder_.Prepare(chunk);
    if (space.empty()) co_return decoder_.Finish();  // poisoned (reported by Commit)
    auto [ec, got] = co_await asio::async_read(socket_, asio::buffer(space.data(), space.size()),
                                               LargeTransfers, asio::as_tuple(use_awaitable));
    bytes_in_ += got;
    if (got > 0) last_read_ = std::chrono::steady_clock::now();
    if (Status st = decoder_.Commit(got); !st.ok()) co_return st;
    if (ec) {
      Status cut = decoder_.Finish();  // OK: the stream ended between frames
      if (ec == asio::error::eof) co_return cut.ok() ? Status::Unavailable(kClosedByPeer) : cut;
      co_return Status::Unavailable(ec.message() + (cut.ok() ? "" : "; " + cut.message()));
    }
  }
}

}  // namespace grapevine::agent::net
