#include "agent/net/connection.h"

#include <spdlog/spdlog.h>

#include <array>
#include <vector>

#include "proto/framer.h"

namespace grapevine::agent::net {

namespace {
constexpr size_t kReadChunk = 4u << 20;  // bytes per read op, so the watchdog sees progress
// On authenticated connections the MAC is computed chunk by chunk as bytes go out
// or come in; smaller chunks let the sender's and the receiver's MAC passes overlap.
constexpr size_t kMacChunk = 1u << 20;

// Frames at least this big are read into a recycled ReceiveBuffers block and decoded
// without copying the model; smaller ones into rx_small_ (kept, so at most this much).
constexpr size_t kZeroCopyFrameBytes = size_t{1} << 20;

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
      last_read_(std::chrono::steady_clock::now()) {
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
  auto first = co_await ReadEnvelope(options_.handshake_frame_bytes);
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

  auto theirs = co_await ReadEnvelope(options_.handshake_frame_bytes);
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
  auth_.emplace(secret, a, b, options_.initiator);
  mac_out_ = true;

  auto result = co_await ReadEnvelope(options_.handshake_frame_bytes);
  if (!result.ok()) co_return Fail(result.status());
  auto* ar = std::get_if<proto::AuthResult>(&result->body);
  if (ar == nullptr || !ar->ok) {
    co_return Fail(Status::AuthFailed("authentication failed: " + remote_ +
                                      " did not accept our proof of the swarm secret"));
  }
  mac_in_ = true;
}

awaitable<void> Connection::ReadLoop() {
  while (!closed_) {
    auto env = co_await ReadEnvelope(options_.max_frame_bytes);
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
  proto::FrameHeader header{proto::kProtocolMajor, proto::kProtocolMinor,
                            static_cast<uint16_t>(mac_out_ ? proto::kFlagMac : 0),
                            static_cast<uint32_t>(msg.size())};
  auto header_bytes = proto::EncodeFrameHeader(header);
  auto pieces = msg.Pieces();
  std::vector<asio::const_buffer> buffers;
  buffers.reserve(pieces.size() + 2);
  buffers.emplace_back(header_bytes.data(), header_bytes.size());
  for (const auto& p : pieces) buffers.emplace_back(p.data(), p.size());
  if (!mac_out_) {
    size_t n = co_await asio::async_write(socket_, buffers, LargeTransfers, use_awaitable);
    bytes_out_ += n;
    co_return;
  }
  // Authenticated: sign each chunk just before it is written, so that computing the
  // MAC overlaps with the peer receiving and verifying what was written before
  // (instead of a whole-payload MAC pass on each side before and after the transfer).
  // The MAC still covers sequence number, header and the whole payload.
  auth_->BeginSign(header_bytes);
  std::vector<asio::const_buffer> batch;
  batch.emplace_back(header_bytes.data(), header_bytes.size());
  size_t batch_bytes = 0;
  for (auto piece : pieces) {
    while (!piece.empty()) {
      auto part = piece.first(std::min(piece.size(), kMacChunk - batch_bytes));
      piece = piece.subspan(part.size());
      auth_->UpdateSign(part);
      batch.emplace_back(part.data(), part.size());
      batch_bytes += part.size();
      if (batch_bytes == kMacChunk) {
        bytes_out_ += co_await asio::async_write(socket_, batch, LargeTransfers, use_awaitable);
        batch.clear();
        batch_bytes = 0;
      }
    }
  }
  const proto::FrameMac mac = auth_->FinishSign();
  batch.emplace_back(mac.data(), mac.size());
  bytes_out_ += co_await asio::async_write(socket_, batch, LargeTransfers, use_awaitable);
}

awaitable<Result<proto::Envelope>> Connection::ReadEnvelope(uint32_t limit) {
  std::array<uint8_t, proto::kFrameHeaderBytes> header_bytes{};
  auto [hec, n] = co_await asio::async_read(socket_, asio::buffer(header_bytes),
                                            asio::as_tuple(use_awaitable));
  bytes_in_ += n;
  if (hec == asio::error::eof && n == 0) co_return Status::Unavailable(kClosedByPeer);
  if (hec) {
    co_return Status::Invalid(hec == asio::error::eof ? "connection closed inside a frame header"
                                                      : hec.message());
  }
  last_read_ = std::chrono::steady_clock::now();
  auto header = proto::DecodeFrameHeader(header_bytes, limit);
  if (!header.ok()) co_return header.status();
  const bool has_mac = (header->flags & proto::kFlagMac) != 0;
  if (mac_in_ && !has_mac) {
    co_return Status::AuthFailed("frame without MAC on an authenticated connection");
  }
  if (has_mac && !mac_in_) co_return Status::Invalid("MAC on a frame before authentication");
  // The MAC is checked as the payload arrives (chunk by chunk) and the frame is
  // used only once it verified, below.
  if (has_mac) auth_->BeginVerify(header_bytes);
  // A model-sized frame goes into a recycled block that its decoded values keep
  // viewing (zero-copy; the block returns to rx_big_ when the model is dropped).
  // Blocks are allocated uninitialised, so pages are committed only as bytes
  // arrive: a 12-byte header alone cannot make the agent use memory. Control
  // frames share one small buffer.
  const size_t length = header->length;
  std::shared_ptr<uint8_t> block;
  uint8_t* payload = nullptr;
  if (length >= kZeroCopyFrameBytes) {
    block = rx_big_->Acquire(length);
    payload = block.get();
  } else {
    if (rx_small_.size() < length) rx_small_.resize(length);
    payload = rx_small_.data();
  }
  size_t done = 0;
  while (done < length) {
    size_t want = std::min(has_mac ? kMacChunk : kReadChunk, length - done);
    auto [ec, got] = co_await asio::async_read(socket_, asio::buffer(payload + done, want),
                                               LargeTransfers, asio::as_tuple(use_awaitable));
    done += got;
    bytes_in_ += got;
    if (ec) {
      co_return Status::Invalid("connection closed after " + std::to_string(done) + " of " +
                                std::to_string(length) + " payload bytes: " + ec.message());
    }
    if (has_mac) auth_->UpdateVerify(std::span<const uint8_t>(payload + done - got, got));
    last_read_ = std::chrono::steady_clock::now();
  }
  if (has_mac) {
    proto::FrameMac mac{};
    auto [ec, m] = co_await asio::async_read(socket_, asio::buffer(mac),
                                             asio::as_tuple(use_awaitable));
    bytes_in_ += m;
    if (ec) co_return Status::Invalid("connection closed inside a frame MAC");
    if (!auth_->FinishVerify(mac)) {
      co_return Status::AuthFailed("frame MAC does not verify");
    }
  }
  if (block) co_return proto::Decode(std::span<uint8_t>(payload, length), std::move(block));
  co_return proto::Decode(std::span<const uint8_t>(payload, length));
}

}  // namespace grapevine::agent::net
