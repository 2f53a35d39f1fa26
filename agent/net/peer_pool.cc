#include "agent/net/peer_pool.h"

#include <spdlog/spdlog.h>

#include <vector>

namespace grapevine::agent::net {

namespace {
using asio::awaitable;
using asio::use_awaitable;
constexpr size_t kMaxConnections = 512;
constexpr size_t kMaxPending = 64;
constexpr std::chrono::milliseconds kMaxBackoff{5000};
constexpr std::chrono::milliseconds kConnectTimeout{3000};
}  // namespace

Result<tcp::endpoint> ResolveEndpoint(asio::io_context& io, const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == addr.size()) {
    return Status::Invalid("bad address '" + addr + "': expected host:port");
  }
  std::string host = addr.substr(0, colon);
  std::string port = addr.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  for (char c : port) {
    if (c < '0' || c > '9') return Status::Invalid("bad port in address '" + addr + "'");
  }
  if (port.size() > 5 || std::stoul(port) > 65535) {
    return Status::Invalid("port out of range in address '" + addr + "'");
  }
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto results = resolver.resolve(host, port, ec);
  if (ec || results.empty()) {
    return Status::NotFound("cannot resolve '" + addr + "': " + ec.message());
  }
  return results.begin()->endpoint();
}

PeerPool::PeerPool(asio::io_context& io, ConnectionOptions options, Callbacks callbacks)
    : io_(io),
      options_(options),
      callbacks_(std::move(callbacks)),
      acceptor_(io),
      maintain_timer_(io) {}

PeerPool::~PeerPool() = default;

void PeerPool::SetIdentity(proto::NodeId id, uint64_t incarnation,
                           const std::string& listen_addr) {
  hello_.id = id;
  hello_.incarnation = incarnation;
  hello_.listen_addr = listen_addr;
}

Status PeerPool::Listen(const std::string& addr) {
  GV_ASSIGN_OR_RETURN(tcp::endpoint ep, ResolveEndpoint(io_, addr));
  boost::system::error_code ec;
  acceptor_.open(ep.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + addr + ": " + ec.message());
  auto local = acceptor_.local_endpoint();
  listen_addr_ = addr.substr(0, addr.rfind(':')) + ":" + std::to_string(local.port());
  asio::co_spawn(io_, AcceptLoop(), asio::detached);
  asio::co_spawn(io_, Maintain(), asio::detached);
  return Status::Ok();
}

awaitable<void> PeerPool::AcceptLoop() {
  asio::steady_timer pause(io_);
  while (!stopped_) {
    auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(use_awaitable));
    if (stopped_) break;
    if (ec) {
      // EMFILE and friends: log, breathe, keep accepting.
      spdlog::warn("accept failed: {}", ec.message());
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(asio::as_tuple(use_awaitable));
      continue;
    }
    if (all_.size() >= kMaxConnections) {
      spdlog::warn("refusing connection: {} connections open", all_.size());
      boost::system::error_code ignored;
      socket.close(ignored);
      continue;
    }
    MakeConnection(std::move(socket), false, "inbound")->Start();
  }
}

std::shared_ptr<Connection> PeerPool::MakeConnection(tcp::socket socket, bool initiator,
                                                     std::string label) {
  ConnectionOptions opts = options_;
  opts.initiator = initiator;
  Connection::Callbacks cb;
  cb.on_ready = [this](const std::shared_ptr<Connection>& c) { OnReady(c); };
  cb.on_envelope = [this](const std::shared_ptr<Connection>& c, proto::Envelope&& env) {
    if (callbacks_.on_envelope) callbacks_.on_envelope(c, std::move(env));
  };
  cb.on_closed = [this](const std::shared_ptr<Connection>& c, const Status& why) {
    OnClosed(c, why);
  };
  auto conn = std::make_shared<Connection>(std::move(socket), opts, std::move(cb), hello_,
                                           std::move(label));
  all_.insert(conn);
  return conn;
}

void PeerPool::OnReady(const std::shared_ptr<Connection>& conn) {
  if (auto hook = seed_hooks_.find(conn.get()); hook != seed_hooks_.end()) {
    auto on_ready = std::move(hook->second.on_ready);
    seed_hooks_.erase(hook);
    on_ready(conn);
    // A seed connection carries one request and its reply. Adopting it as the peer's
    // link could close it as the duplicate of a link the peer dialled (the request
    // still queued), or file it under an id the dialled address no longer owns.
    return;
  }
  const auto& hello = conn->peer_hello();
  if (hello.client || hello.id == proto::kNoNode) return;  // anonymous: replies only
  if (hello.id == hello_.id) {
    conn->Close(Status::Invalid("connected to ourselves"));
    return;
  }
  Adopt(hello.id, conn);
}

void PeerPool::Adopt(proto::NodeId id, const std::shared_ptr<Connection>& conn) {
  Peer& p = peers_[id];
  if (p.addr.empty()) p.addr = conn->peer_hello().listen_addr;
  if (p.conn && !p.conn->closed() && p.conn != conn) {
    // Both dialled: keep the connection initiated by the lower id. Both ends apply
    // the same rule, so both retire the same link; retiring (not closing) delivers
    // what was already sent on it — a model published in the first milliseconds
    // would otherwise vanish and a --sync exchange wait a minute for it.
    bool conn_by_lower = conn->initiator() == (hello_.id < id);
    auto loser = conn_by_lower ? p.conn : conn;
    if (conn_by_lower) p.conn = conn;
    loser->Retire();
    return;
  }
  p.conn = conn;
  p.backoff = std::chrono::milliseconds(100);
  while (!p.pending.empty()) {
    auto [msg, cls] = std::move(p.pending.front());
    p.pending.pop_front();
    conn->Send(std::move(msg), cls);
  }
  if (callbacks_.on_peer_up) callbacks_.on_peer_up(id);
}

void PeerPool::OnClosed(const std::shared_ptr<Connection>& conn, const Status& why) {
  all_.erase(conn);
  if (auto hook = seed_hooks_.find(conn.get()); hook != seed_hooks_.end()) {
    auto on_fail = std::move(hook->second.on_fail);
    seed_hooks_.erase(hook);
    on_fail(why.ok() ? Status::Unavailable("seed closed the connection") : why);
  }
  closed_bytes_in_ += conn->bytes_in();
  closed_bytes_out_ += conn->bytes_out();
  for (size_t k = 0; k < closed_by_traffic_.size(); ++k) {
    closed_by_traffic_[k] += conn->bytes_out_by_traffic()[k];
  }
  closed_superseded_ += conn->models_superseded();
  if (conn->peer_id() != proto::kNoNode) closed_by_peer_[conn->peer_id()] += conn->bytes_out();
  if (!why.ok() && !stopped_) {
    spdlog::info("connection {} ({}) closed: {}", conn->remote_endpoint(), conn->label(),
                 why.ToString());
  }
  if (!conn->ready()) return;
  proto::NodeId id = conn->peer_hello().id;
  auto it = peers_.find(id);
  if (it == peers_.end() || it->second.conn != conn) return;
  it->second.conn.reset();
  it->second.next_dial = std::chrono::steady_clock::now() + it->second.backoff;
  if (callbacks_.on_peer_down && !stopped_) callbacks_.on_peer_down(id, why);
}

bool PeerPool::Send(proto::NodeId to, const std::string& addr,
                    std::shared_ptr<const proto::EncodedMessage> msg, SendClass cls) {
  if (stopped_ || to == hello_.id) return false;
  Peer& p = peers_[to];
  if (!addr.empty()) p.addr = addr;
  if (p.conn && p.conn->ready() && !p.conn->closed()) {
    p.conn->Send(std::move(msg), cls);
    return true;
  }
  if (p.addr.empty()) return false;
  if (cls == SendClass::kGossipModel) {
    for (auto& [queued, qcls] : p.pending) {
      if (qcls == SendClass::kGossipModel) {
        queued = std::move(msg);
        return true;
      }
    }
  }
  if (p.pending.size() >= kMaxPending) p.pending.pop_front();
  p.pending.emplace_back(std::move(msg), cls);
  if (!p.dialling && !(p.conn && !p.conn->closed())) {
    p.dialling = true;
    asio::co_spawn(io_, Dial(to), asio::detached);
  }
  return true;
}

awaitable<void> PeerPool::Dial(proto::NodeId id) {
  Peer& p = peers_[id];
  p.dialling = true;
  auto ep = ResolveEndpoint(io_, p.addr);
  bool ok = false;
  if (ep.ok()) {
    tcp::socket socket(io_);
    asio::steady_timer timeout(io_);
    timeout.expires_after(kConnectTimeout);
    timeout.async_wait([&socket](const boost::system::error_code& ec) {
      if (!ec) {
        boost::system::error_code ignored;
        socket.close(ignored);
      }
    });
    auto [ec] = co_await socket.async_connect(*ep, asio::as_tuple(use_awaitable));
    timeout.cancel();
    if (!ec && !stopped_) {
      MakeConnection(std::move(socket), true, "outbound")->Start();
      ok = true;
    }
  }
  p.dialling = false;
  if (!ok) {
    p.pending.clear();
    p.next_dial = std::chrono::steady_clock::now() + p.backoff;
    p.backoff = std::min(kMaxBackoff, p.backoff * 2);
  }
}

awaitable<void> PeerPool::Maintain() {
  while (!stopped_) {
    maintain_timer_.expires_after(std::chrono::milliseconds(100));
    co_await maintain_timer_.async_wait(asio::as_tuple(use_awaitable));
    if (stopped_) break;
    auto now = std::chrono::steady_clock::now();
    for (auto& [id, p] : peers_) {
      bool connected = p.conn && !p.conn->closed();
      if (p.keep && !connected && !p.dialling && !p.addr.empty() && now >= p.next_dial) {
        p.dialling = true;
        asio::co_spawn(io_, Dial(id), asio::detached);
      }
    }
  }
}

void PeerPool::KeepConnected(const std::map<proto::NodeId, std::string>& peers) {
  for (auto& [id, p] : peers_) p.keep = false;
  for (const auto& [id, addr] : peers) {
    if (id == hello_.id) continue;
    Peer& p = peers_[id];
    p.keep = true;
    if (!addr.empty()) p.addr = addr;
  }
}

bool PeerPool::Connected(proto::NodeId id) const {
  auto it = peers_.find(id);
  return it != peers_.end() && it->second.conn && it->second.conn->ready() &&
         !it->second.conn->closed();
}

void PeerPool::DialAnonymous(const std::string& addr,
                             std::function<void(const std::shared_ptr<Connection>&)> on_ready,
                             std::function<void(const Status&)> on_fail) {
  auto ep = ResolveEndpoint(io_, addr);
  if (!ep.ok()) {
    on_fail(ep.status());
    return;
  }
  auto socket = std::make_shared<tcp::socket>(io_);
  socket->async_connect(*ep, [this, socket, addr, on_ready = std::move(on_ready),
                              on_fail = std::move(on_fail)](const boost::system::error_code& ec) {
    if (ec) {
      on_fail(Status::Unavailable("cannot connect to " + addr + ": " + ec.message()));
      return;
    }
    auto conn = MakeConnection(std::move(*socket), true, "seed");
    seed_hooks_[conn.get()] = SeedHook{on_ready, on_fail};
    conn->Start();
  });
}

void PeerPool::CloseAll(const Status& why) {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  maintain_timer_.cancel();
  auto conns = all_;
  for (auto& c : conns) c->Close(why);
}

void PeerPool::DropPeers(const Status& why) {
  std::vector<std::shared_ptr<Connection>> conns;
  // Peers stay in the map (a Dial coroutine may hold a reference to its entry); only
  // their contents are dropped.
  for (auto& [id, p] : peers_) {
    if (p.conn) conns.push_back(std::move(p.conn));
    p.conn.reset();
    p.pending.clear();
    p.addr.clear();
    p.keep = false;
    p.backoff = std::chrono::milliseconds(100);
    p.next_dial = {};
  }
  for (auto& c : conns) c->Close(why);
}

uint64_t PeerPool::bytes_in() const {
  uint64_t total = closed_bytes_in_;
  for (auto& c : all_) total += c->bytes_in();
  return total;
}
core::Transport::TrafficBytes PeerPool::bytes_out_by_traffic() const {
  core::Transport::TrafficBytes total = closed_by_traffic_;
  for (auto& c : all_) {
    for (size_t k = 0; k < total.size(); ++k) total[k] += c->bytes_out_by_traffic()[k];
  }
  return total;
}

std::map<proto::NodeId, uint64_t> PeerPool::bytes_out_by_peer() const {
  std::map<proto::NodeId, uint64_t> total = closed_by_peer_;
  for (auto& c : all_) {
    if (c->peer_id() != proto::kNoNode) total[c->peer_id()] += c->bytes_out();
  }
  return total;
}

uint64_t PeerPool::bytes_out() const {
  uint64_t total = closed_bytes_out_;
  for (auto& c : all_) total += c->bytes_out();
  return total;
}
uint64_t PeerPool::models_superseded() const {
  uint64_t total = closed_superseded_;
  for (auto& c : all_) total += c->models_superseded();
  return total;
}

}  // namespace grapevine::agent::net
