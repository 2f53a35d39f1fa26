// The receive path that ships — agent::net::Connection feeding proto::FrameDecoder —
// driven by a raw loopback socket: frames that arrive one byte per send() are
// delivered, and a bad stream (garbage, oversize, truncated, a MAC nobody agreed on)
// closes only its own connection while the next client is served. Waits are bounded
// (condition variable, SO_RCVTIMEO); nothing sleeps.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "agent/net/network.h"
#include "proto/codec.h"
#include "proto/envelope_frame.h"
#include "proto/framer.h"
#include "proto/messages.h"

namespace grapevine::agent::net {
namespace {

constexpr uint32_t kMaxFrame = 1u << 20;

class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = fd_ >= 0 && connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    int one = 1;
    if (connected_) setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    timeval tv{};
    tv.tv_sec = 1;
    if (connected_) setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() {
    if (fd_ >= 0) close(fd_);
  }
  bool connected() const { return connected_; }

  // One byte per send() when `trickle`, else all at once. False if the peer is gone.
  bool Send(const std::vector<uint8_t>& bytes, bool trickle) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      size_t n = trickle ? 1 : bytes.size() - sent;
      ssize_t w = send(fd_, bytes.data() + sent, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      sent += static_cast<size_t>(w);
    }
    return true;
  }
  void HalfClose() { shutdown(fd_, SHUT_WR); }

  // Reads (and discards the agent's own frames) until the agent closes, for at most 10 s.
  bool ClosedByPeer() {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) return true;
    }
    return false;
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

std::vector<uint8_t> Wire(const proto::Envelope& env) {
  return proto::FlattenFrame(proto::Encode(env), nullptr);
}

std::vector<uint8_t> ClientHello() {
  proto::Envelope env;
  env.body = proto::Hello{proto::kProtocolMajor, proto::kProtocolMinor, proto::kNoNode, 1, "",
                          /*client=*/true, /*auth_required=*/false, proto::Nonce{}};
  return Wire(env);
}

std::vector<uint8_t> PingFrame(uint64_t seq) {
  proto::Envelope env;
  env.body = proto::Ping{seq, proto::kNoNode, proto::kNoNode};
  return Wire(env);
}

std::vector<uint8_t> Header(uint16_t flags, uint32_t length) {
  auto h = proto::EncodeFrameHeader({proto::kProtocolMajor, proto::kProtocolMinor, flags, length});
  return {h.begin(), h.end()};
}

std::vector<uint8_t> Concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

class ConnectionStreamTest : public ::testing::Test {
 protected:
  void SetUp() override {
    NetworkOptions options;
    options.handle_signals = false;
    options.max_frame_bytes = kMaxFrame;
    Network::Handlers h;
    h.on_envelope = [this](const LinkPtr&, proto::Envelope&& env) {
      if (auto* p = std::get_if<proto::Ping>(&env.body)) {
        std::lock_guard lock(mu_);
        pings_.push_back(p->seq);
        cv_.notify_all();
      }
    };
    net_ = std::make_unique<Network>(options, std::move(h));
    ASSERT_TRUE(net_->Listen("127.0.0.1:0").ok());
    const std::string addr = net_->listen_addr();
    port_ = std::stoi(addr.substr(addr.rfind(':') + 1));
    net_->Start();
    net_->Post([this] { net_->SetIdentity(1, 1); });
  }
  void TearDown() override { net_->Stop(); }

  bool WaitForPings(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return pings_.size() >= n; });
  }

  std::unique_ptr<Network> net_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<uint64_t> pings_;
};

TEST_F(ConnectionStreamTest, FramesTrickledOneByteAtATimeArrive) {
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send(ClientHello(), /*trickle=*/true));
  ASSERT_TRUE(c.Send(Concat(PingFrame(7), PingFrame(8)), /*trickle=*/true));
  ASSERT_TRUE(WaitForPings(2));
  std::lock_guard lock(mu_);
  EXPECT_EQ(pings_, (std::vector<uint64_t>{7, 8}));
}

TEST_F(ConnectionStreamTest, EachBadStreamClosesOnlyItsConnection) {
  struct Case {
    std::string name;
    std::vector<uint8_t> after_hello;
    bool half_close;
  };
  std::vector<uint8_t> garbage(512, 0xA7);
  const std::vector<Case> cases = {
      {"garbage", garbage, false},
      {"oversize length", Header(0, kMaxFrame + 1), false},
      {"truncated payload", Concat(Header(0, 100), std::vector<uint8_t>(10, 'x')), true},
      {"MAC without agreed key", Concat(Header(proto::kFlagMac, 8), std::vector<uint8_t>(24, 0)),
       false},
  };
  uint64_t seq = 100;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    RawClient bad(port_);
    ASSERT_TRUE(bad.connected());
    ASSERT_TRUE(bad.Send(ClientHello(), false));
    bad.Send(c.after_hello, false);  // the agent may already have closed
    if (c.half_close) bad.HalfClose();
    EXPECT_TRUE(bad.ClosedByPeer());

    // The next client is served as if nothing had happened.
    RawClient good(port_);
    ASSERT_TRUE(good.connected());
    ASSERT_TRUE(good.Send(Concat(ClientHello(), PingFrame(++seq)), false));
    ASSERT_TRUE(WaitForPings(seq - 100));
  }
}

}  // namespace
}  // namespace grapevine::agent::net
