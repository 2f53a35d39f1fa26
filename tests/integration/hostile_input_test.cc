// Integration: garbage on an agent's port (random bytes, truncated frames, a 4 GiB
// length header, a wrong magic, a wrong version) is dropped connection by connection,
// logged, and costs the agent neither its training nor its memory (DESIGN §3, §7;
// issue 4, "what must hold" 3). Frame header: "GRPV", major u8, minor u8, flags u16 LE,
// length u32 LE (proto/framer.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <random>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

std::string Header(const char magic[4], uint8_t major, uint8_t minor, uint16_t flags,
                   uint32_t length) {
  std::string h(magic, 4);
  h.push_back(static_cast<char>(major));
  h.push_back(static_cast<char>(minor));
  h.push_back(static_cast<char>(flags & 0xff));
  h.push_back(static_cast<char>(flags >> 8));
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  return h;
}

struct Attack {
  bool connected = false;
  bool dropped = false;  // the agent closed: read returned 0 or ECONNRESET
  int local_port = 0;
};

// Connects to 127.0.0.1:port, sends `bytes`, optionally half-closes, and waits up to
// `wait` for the agent to close the connection (draining anything it sends first).
Attack SendRaw(int port, const std::string& bytes, bool half_close, seconds wait) {
  Attack a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return a;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return a;
  }
  a.connected = true;
  sockaddr_in local{};
  socklen_t len = sizeof(local);
  getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
  a.local_port = ntohs(local.sin_port);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the agent may close while we still write: that is a drop too
    sent += static_cast<size_t>(n);
  }
  if (half_close) shutdown(fd, SHUT_WR);
  timeval tv{};
  tv.tv_sec = 1;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  char buf[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
      a.dropped = true;
      break;
    }
    // n > 0: the agent's own Hello; n < 0 with EAGAIN: keep waiting.
  }
  close(fd);
  return a;
}

class HostileInputTest : public IntegrationTest {
 protected:
  void StartAgents() {
    ports_ = {FreePort(), FreePort()};
    const std::string ring = WriteRing("pair.dot", ports_);
    for (int i = 0; i < 2; ++i) {
      const std::string id = std::to_string(i);
      agents_.push_back(&Start("agent" + id,
                               {"agent", "--topology", ring, "--node", id, "--metrics",
                                Metrics(i), "--data", "synthetic", "--model", "mlp:20-32-4",
                                "--rounds", "1000000", "--local-steps", "200", "--membership",
                                "fast", "--deadline-max-ms", "500"}));
    }
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto live = TopoLive(Addr(ports_[0]));
          return live && CountInState(*live, "alive") == 2 && ReadJsonl(Metrics(0)).size() > 2;
        },
        seconds(20)));
  }
  std::string Metrics(int i) const { return dir() + "/" + std::to_string(i) + ".jsonl"; }
  int64_t Round(int i) const {
    auto lines = ReadJsonl(Metrics(i));
    return lines.empty() ? -1 : lines.back().value("round", int64_t{-1});
  }
  // The agent logged the close of the connection from `local_port`.
  bool LoggedClose(int local_port) const {
    const std::string log = agents_[0]->Log();
    const std::string who = "127.0.0.1:" + std::to_string(local_port) + " ";
    size_t at = log.find(who);
    while (at != std::string::npos) {
      size_t eol = log.find('\n', at);
      if (log.substr(at, eol - at).find("closed") != std::string::npos) return true;
      at = log.find(who, at + 1);
    }
    return false;
  }
  // The agent is alive, answers topo live and its rounds advance.
  void ExpectHealthy(const std::string& after) {
    SCOPED_TRACE("after " + after);
    EXPECT_TRUE(agents_[0]->Running());
    EXPECT_TRUE(TopoLive(Addr(ports_[0])).has_value()) << "topo live failed";
    const int64_t before = Round(0);
    EXPECT_TRUE(WaitUntil([&] { return Round(0) >= before + 2; }, seconds(10)))
        << "rounds stuck at " << Round(0);
  }

  std::vector<int> ports_;
  std::vector<Process*> agents_;
};

TEST_F(HostileInputTest, EachBadStreamIsDroppedAndLoggedAgentKeepsTraining) {
  StartAgents();
  std::mt19937 rng(42);
  std::string random_bytes(4096, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng() & 0xff);
  random_bytes[0] = 'X';  // never a valid magic by chance

  struct Case {
    std::string name;
    std::string bytes;
    bool half_close;
  };
  const std::vector<Case> cases = {
      {"random bytes", random_bytes, false},
      // Header promises 100 bytes, 10 arrive, then nothing: the handshake timer drops it.
      {"truncated frame", Header("GRPV", 1, 0, 0, 100) + std::string(10, 'x'), false},
      {"4 GiB length", Header("GRPV", 1, 0, 0, 0xffffffffu), false},
      {"wrong magic", Header("GRPX", 1, 0, 0, 16) + std::string(16, '\0'), false},
      {"wrong version", Header("GRPV", 2, 0, 0, 16) + std::string(16, '\0'), false},
      {"unknown flags", Header("GRPV", 1, 0, 0x8000, 16) + std::string(16, '\0'), false},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Attack a = SendRaw(ports_[0], c.bytes, c.half_close, seconds(10));
    ASSERT_TRUE(a.connected);
    EXPECT_TRUE(a.dropped) << "the agent kept the connection open";
    EXPECT_TRUE(WaitUntil([&] { return LoggedClose(a.local_port); }, seconds(5)))
        << "no log line for the connection from port " << a.local_port;
  }
  ExpectHealthy("bad streams");
}

TEST_F(HostileInputTest, TruncatedFrameThenEofIsDropped) {
  StartAgents();
  Attack a = SendRaw(ports_[0], Header("GRPV", 1, 0, 0, 100) + std::string(10, 'x'),
                     /*half_close=*/true, seconds(10));
  ASSERT_TRUE(a.connected);
  EXPECT_TRUE(a.dropped);
  ExpectHealthy("truncated frame and EOF");
}

TEST_F(HostileInputTest, ManyHugeLengthHeadersDoNotGrowMemory) {
  StartAgents();
  const long rss_before = RssKib(agents_[0]->pid());
  ASSERT_GT(rss_before, 0);
  int dropped = 0;
  for (int i = 0; i < 50; ++i) {
    Attack a = SendRaw(ports_[0], Header("GRPV", 1, 0, 0, 0xffffffffu), false, seconds(5));
    if (a.dropped) ++dropped;
  }
  EXPECT_EQ(dropped, 50);
  const long rss_after = RssKib(agents_[0]->pid());
  EXPECT_LT(rss_after - rss_before, 50 * 1024) << "VmRSS " << rss_before << " -> " << rss_after
                                               << " KiB";
  ExpectHealthy("50 huge headers");
}

}  // namespace
}  // namespace grapevine::integration
