// Integration (issue 16): `grapevine launch` with a node whose port another program
// listens on exits 2 before starting anything, and the message names the node, the port
// and the holder (this test process: its pid and command line, found through
// /proc/net/tcp and /proc/PID/fd).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

// A listening socket on 127.0.0.1:port for the lifetime of the object.
class HeldPort {
 public:
  explicit HeldPort(int port) : fd_(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<uint16_t>(port));
    listening_ = fd_ >= 0 && bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
                 listen(fd_, 4) == 0;
  }
  ~HeldPort() {
    if (fd_ >= 0) close(fd_);
  }
  HeldPort(const HeldPort&) = delete;
  HeldPort& operator=(const HeldPort&) = delete;
  bool listening() const { return listening_; }

 private:
  int fd_;
  bool listening_ = false;
};

class LaunchPortsTest : public IntegrationTest {
 protected:
  static std::vector<std::string> Flags() {
    return {"--algo", "wa", "--data", "synthetic", "--model", "mlp:20-32-4", "--rounds", "2",
            "--local-steps", "5", "--membership", "fast", "--timeout", "30"};
  }
  static std::vector<std::string> Concat(std::vector<std::string> a,
                                         const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  static bool Has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
  }
  // This test program's name as /proc/PID/cmdline shows it.
  static std::string OwnCommand() {
    return std::filesystem::path(std::filesystem::read_symlink("/proc/self/exe"))
        .filename()
        .string();
  }
};

TEST_F(LaunchPortsTest, PortHeldByAnotherProgramExitsTwoNamingNodePortAndHolder) {
  const int held_port = FreePort();
  HeldPort held(held_port);
  ASSERT_TRUE(held.listening()) << "could not listen on " << held_port;
  const std::string topo = WriteRing("ring3.dot", {FreePort(), held_port, FreePort()});
  const std::string out = dir() + "/run";
  RunResult r = Run(Concat({"launch", topo, "--out", out}, Flags()), seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output << r.errors;
  EXPECT_TRUE(Has(r.errors, "node '1'")) << r.errors;
  EXPECT_TRUE(Has(r.errors, "127.0.0.1:" + std::to_string(held_port))) << r.errors;
  EXPECT_TRUE(Has(r.errors, "listening socket of pid " + std::to_string(getpid()))) << r.errors;
  EXPECT_TRUE(Has(r.errors, OwnCommand())) << r.errors;
  // Nothing started: no run folder, no "launching" line.
  EXPECT_FALSE(std::filesystem::exists(out)) << out;
  EXPECT_FALSE(Has(r.output, "launching")) << r.output;
}

TEST_F(LaunchPortsTest, BuiltInRingOnAHeldBasePortExitsTwo) {
  const int held_port = FreePort();
  HeldPort held(held_port);
  ASSERT_TRUE(held.listening());
  const std::string out = dir() + "/run";
  RunResult r = Run(Concat({"launch", "--nodes", "3", "--base-port", std::to_string(held_port),
                            "--out", out},
                           Flags()),
                    seconds(30));
  EXPECT_EQ(r.exit_code, 2) << r.output << r.errors;
  EXPECT_TRUE(Has(r.errors, "node '0'")) << r.errors;
  EXPECT_TRUE(Has(r.errors, "pid " + std::to_string(getpid()))) << r.errors;
  // FreePort() hands out ports from the ephemeral range: the launcher says so.
  EXPECT_TRUE(Has(r.errors, "ephemeral port range")) << r.errors;
  EXPECT_FALSE(std::filesystem::exists(out)) << out;
}

}  // namespace
}  // namespace grapevine::integration
