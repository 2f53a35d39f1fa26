#include "agent/sim/memory_transport.h"

#include "proto/codec.h"
#include "proto/framer.h"

namespace grapevine::agent::sim {

// One end of an in-memory link as the local Node sees it.
class MemoryTransport::Link final : public core::Link {
 public:
  Link(std::string remote_addr, proto::NodeId remote_id)
      : remote_addr_(std::move(remote_addr)), remote_id_(remote_id) {}
  proto::NodeId peer_id() const override { return remote_id_; }
  bool is_client() const override { return false; }
  const std::string& remote_addr() const { return remote_addr_; }

 private:
  std::string remote_addr_;
  proto::NodeId remote_id_;
};

std::unique_ptr<MemoryTransport> MemoryNetwork::NewTransport() {
  return std::unique_ptr<MemoryTransport>(new MemoryTransport(*this));
}

void MemoryNetwork::Partition(const std::vector<std::vector<std::string>>& groups) {
  group_.clear();
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const auto& addr : groups[g]) group_[addr] = static_cast<int>(g) + 1;
  }
}

bool MemoryNetwork::CanTalk(const std::string& a, const std::string& b) const {
  auto ga = group_.find(a);
  auto gb = group_.find(b);
  return (ga == group_.end() ? 0 : ga->second) == (gb == group_.end() ? 0 : gb->second);
}

void MemoryNetwork::SetLinkLatency(const std::string& a, const std::string& b,
                                   core::Duration latency) {
  link_latency_[{std::min(a, b), std::max(a, b)}] = latency;
}

core::Duration MemoryNetwork::LatencyFor(const std::string& a, const std::string& b) {
  auto it = link_latency_.find({std::min(a, b), std::max(a, b)});
  if (it != link_latency_.end()) return it->second;
  if (latency_max_ <= latency_min_) return latency_min_;
  std::uniform_int_distribution<int64_t> d(latency_min_.count(), latency_max_.count());
  return core::Duration(d(rng_));
}

bool MemoryNetwork::Drop() {
  if (drop_rate_ <= 0) return false;
  return std::uniform_real_distribution<double>(0, 1)(rng_) < drop_rate_;
}

MemoryTransport* MemoryNetwork::Find(const std::string& addr) const {
  auto it = listeners_.find(addr);
  return it == listeners_.end() ? nullptr : it->second;
}

MemoryTransport::~MemoryTransport() {
  Stop();
  auto it = net_.listeners_.find(addr_);
  if (it != net_.listeners_.end() && it->second == this) net_.listeners_.erase(it);
}

Status MemoryTransport::Listen(const std::string& addr) {
  if (net_.Find(addr) != nullptr) {
    return Status::Unavailable("cannot listen on " + addr + ": address already in use");
  }
  addr_ = addr;
  net_.listeners_[addr] = this;
  return Status::Ok();
}

void MemoryTransport::Stop() {
  stopped_ = true;
  *alive_token_ = false;
}

void MemoryTransport::Post(std::function<void()> fn) {
  std::weak_ptr<bool> token = alive_token_;
  net_.loop().Post([token, fn = std::move(fn)] {
    auto alive = token.lock();
    if (alive && *alive) fn();
  });
}

void MemoryTransport::Every(std::chrono::milliseconds period, std::function<void()> fn) {
  std::weak_ptr<bool> token = alive_token_;
  net_.loop().Every(
      period,
      [token, this] {
        auto alive = token.lock();
        return alive && *alive && !crashed_;
      },
      std::move(fn));
}

void MemoryTransport::SetIdentity(proto::NodeId id, uint64_t /*incarnation*/) { id_ = id; }

bool MemoryTransport::Send(proto::NodeId to, const std::string& addr,
                           std::shared_ptr<const proto::EncodedMessage> msg, bool) {
  std::string target = addr;
  if (target.empty()) {
    auto it = peers_.find(to);
    if (it == peers_.end()) return false;
    target = it->second;
  }
  peers_[to] = target;
  return Deliver(net_.Find(target), std::move(msg), id_ == proto::kNoNode);
}

void MemoryTransport::Reply(const core::LinkPtr& link, const proto::Envelope& env) {
  auto* l = dynamic_cast<const Link*>(link.get());
  if (l == nullptr) return;
  auto msg = std::make_shared<const proto::EncodedMessage>(proto::Encode(env));
  // Like a TCP hello, our id travels on every link once we have one, dialled
  // anonymously or not.
  Deliver(net_.Find(l->remote_addr()), std::move(msg), id_ == proto::kNoNode);
}

void MemoryTransport::KeepConnected(const std::map<proto::NodeId, std::string>& peers) {
  for (const auto& [id, addr] : peers) peers_[id] = addr;
}

bool MemoryTransport::Connected(proto::NodeId id) const {
  auto it = peers_.find(id);
  if (it == peers_.end() || !alive()) return false;
  MemoryTransport* t = net_.Find(it->second);
  return t != nullptr && t->alive() && net_.CanTalk(addr_, it->second);
}

void MemoryTransport::DialAnonymous(const std::string& addr,
                                    std::function<void(const core::LinkPtr&)> on_ready,
                                    std::function<void(const Status&)> on_fail) {
  MemoryTransport* t = net_.Find(addr);
  std::weak_ptr<bool> token = alive_token_;
  if (t == nullptr || !t->alive() || !alive() || !net_.CanTalk(addr_, addr)) {
    Post([on_fail = std::move(on_fail), addr] {
      on_fail(Status::Unavailable("cannot connect to " + addr + ": connection refused"));
    });
    return;
  }
  auto link = std::make_shared<Link>(addr, t->id_.load());
  Post([on_ready = std::move(on_ready), link] { on_ready(link); });
}

bool MemoryTransport::Deliver(MemoryTransport* to, std::shared_ptr<const proto::EncodedMessage> msg,
                              bool anonymous) {
  if (to == nullptr || !alive() || !to->alive() || !net_.CanTalk(addr_, to->addr_)) return false;
  bytes_out_ += msg->size() + proto::kFrameHeaderBytes;
  by_traffic_[static_cast<size_t>(msg->traffic())] += msg->size() + proto::kFrameHeaderBytes;
  if (const proto::NodeId to_id = to->id_.load(); !anonymous && to_id != proto::kNoNode) {
    std::lock_guard<std::mutex> lock(by_peer_mu_);
    by_peer_[to_id] += msg->size() + proto::kFrameHeaderBytes;
  }
  ++net_.sent_;
  std::weak_ptr<bool> token = to->alive_token_;
  net_.loop().At(net_.loop().clock().Now() + net_.LatencyFor(addr_, to->addr_),
                 [to, token, from = addr_, msg = std::move(msg), anonymous] {
                   auto alive = token.lock();
                   if (alive && *alive) to->Receive(from, msg, anonymous);
                 });
  return true;
}

void MemoryTransport::Receive(const std::string& from_addr,
                              std::shared_ptr<const proto::EncodedMessage> msg, bool anonymous) {
  MemoryTransport* from = net_.Find(from_addr);
  if (!alive() || from == nullptr || from->crashed_ || !net_.CanTalk(from_addr, addr_)) return;
  bytes_in_ += msg->size() + proto::kFrameHeaderBytes;
  std::vector<uint8_t> bytes = msg->Flatten();
  Result<proto::Envelope> env = proto::Decode(std::span<const uint8_t>(bytes));
  if (!env.ok() || !handlers_.on_envelope) return;
  const bool join = std::holds_alternative<proto::JoinRequest>(env->body) ||
                    std::holds_alternative<proto::JoinReply>(env->body);
  if (!join && net_.Drop()) {
    ++net_.dropped_;
    return;
  }
  const proto::NodeId sender = anonymous ? proto::kNoNode : from->id_.load();
  if (sender != proto::kNoNode) peers_.try_emplace(sender, from_addr);
  handlers_.on_envelope(std::make_shared<Link>(from_addr, sender), std::move(*env));
}

}  // namespace grapevine::agent::sim
