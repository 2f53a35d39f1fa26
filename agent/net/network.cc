#include "agent/net/network.h"

#include <boost/asio.hpp>
#include <pthread.h>

#include <csignal>
#include <thread>

#include "agent/net/connection.h"
#include "agent/net/peer_pool.h"

namespace grapevine::agent::net {

struct Network::Impl {
  Impl(NetworkOptions opts, Handlers h)
      : options(opts),
        handlers(std::move(h)),
        work(asio::make_work_guard(io)),
        signals(io),
        pool(io, MakeConnectionOptions(opts), MakePoolCallbacks()) {}

  static ConnectionOptions MakeConnectionOptions(const NetworkOptions& o) {
    ConnectionOptions c;
    c.max_frame_bytes = o.max_frame_bytes;
    c.idle_timeout = o.idle_timeout;
    c.secret = o.secret;
    return c;
  }
  PeerPool::Callbacks MakePoolCallbacks() {
    PeerPool::Callbacks cb;
    cb.on_envelope = [this](const ConnectionPtr& c, proto::Envelope&& env) {
      if (handlers.on_envelope) handlers.on_envelope(c, std::move(env));
    };
    cb.on_peer_up = [this](proto::NodeId id) {
      if (handlers.on_peer_up) handlers.on_peer_up(id);
    };
    cb.on_peer_down = [this](proto::NodeId id, const Status& why) {
      if (handlers.on_peer_down) handlers.on_peer_down(id, why);
    };
    return cb;
  }

  NetworkOptions options;
  Handlers handlers;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  asio::signal_set signals;
  PeerPool pool;
  std::vector<std::unique_ptr<asio::steady_timer>> timers;
  std::thread thread;
  bool stopped = false;
};

Network::Network(NetworkOptions options, Handlers handlers)
    : impl_(std::make_unique<Impl>(options, std::move(handlers))) {}

Network::~Network() { Stop(); }

void Network::SetHandlers(Handlers handlers) { impl_->handlers = std::move(handlers); }

Status Network::Listen(const std::string& addr) { return impl_->pool.Listen(addr); }
std::string Network::listen_addr() const { return impl_->pool.listen_addr(); }

void Network::Start() {
  if (impl_->options.handle_signals) {
    impl_->signals.add(SIGINT);
    impl_->signals.add(SIGTERM);
    auto wait = std::make_shared<std::function<void()>>();
    *wait = [this, wait]() {
      impl_->signals.async_wait([this, wait](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (impl_->handlers.on_signal) impl_->handlers.on_signal(sig);
        (*wait)();
      });
    };
    (*wait)();
    // The agent command blocks these two while it loads its data (tools/agent_cmd.cc):
    // one that arrived meanwhile is pending and reaches the handler above now.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  }
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void Network::Stop() {
  if (!impl_ || impl_->stopped) return;
  impl_->stopped = true;
  if (impl_->thread.joinable()) {
    asio::post(impl_->io, [this] {
      impl_->pool.CloseAll(Status::Ok());
      boost::system::error_code ec;
      impl_->signals.cancel(ec);
      for (auto& t : impl_->timers) t->cancel();
      impl_->work.reset();
    });
    // Give closing sockets a moment to flush, then stop whatever is left.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (!impl_->io.stopped() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    impl_->io.stop();
    impl_->thread.join();
  }
}

void Network::Post(std::function<void()> fn) { asio::post(impl_->io, std::move(fn)); }

void Network::Every(std::chrono::milliseconds period, std::function<void()> fn) {
  auto timer = std::make_unique<asio::steady_timer>(impl_->io);
  asio::steady_timer* t = timer.get();
  impl_->timers.push_back(std::move(timer));
  auto tick = std::make_shared<std::function<void()>>();
  *tick = [this, t, period, fn = std::move(fn), tick]() {
    t->expires_after(period);
    t->async_wait([this, tick, &fn](const boost::system::error_code& ec) {
      if (ec || impl_->stopped) return;
      fn();
      (*tick)();
    });
  };
  Post([tick] { (*tick)(); });
}

void Network::SetIdentity(proto::NodeId id, uint64_t incarnation) {
  impl_->pool.SetIdentity(id, incarnation, impl_->pool.listen_addr());
}

bool Network::Send(proto::NodeId to, const std::string& addr,
                   std::shared_ptr<const proto::EncodedMessage> msg, bool gossip_model) {
  return impl_->pool.Send(to, addr, std::move(msg),
                          gossip_model ? SendClass::kGossipModel : SendClass::kControl);
}

void Network::Reply(const LinkPtr& link, const proto::Envelope& env) {
  // Every link this transport hands out is one of its connections.
  if (link) std::static_pointer_cast<Connection>(link)->Send(env);
}

void Network::KeepConnected(const std::map<proto::NodeId, std::string>& peers) {
  impl_->pool.KeepConnected(peers);
}
bool Network::Connected(proto::NodeId id) const { return impl_->pool.Connected(id); }

void Network::DialAnonymous(const std::string& addr,
                            std::function<void(const LinkPtr&)> on_ready,
                            std::function<void(const Status&)> on_fail) {
  impl_->pool.DialAnonymous(
      addr, [on_ready = std::move(on_ready)](const ConnectionPtr& c) { on_ready(c); },
      std::move(on_fail));
}

void Network::CloseAll() { impl_->pool.CloseAll(Status::Ok()); }
void Network::DropPeers() { impl_->pool.DropPeers(Status::Ok()); }
uint64_t Network::bytes_in() const { return impl_->pool.bytes_in(); }
uint64_t Network::bytes_out() const { return impl_->pool.bytes_out(); }
core::Transport::TrafficBytes Network::bytes_out_by_traffic() const {
  return impl_->pool.bytes_out_by_traffic();
}
std::map<proto::NodeId, uint64_t> Network::bytes_out_by_peer() const {
  return impl_->pool.bytes_out_by_peer();
}
uint64_t Network::models_superseded() const { return impl_->pool.models_superseded(); }

}  // namespace grapevine::agent::net
