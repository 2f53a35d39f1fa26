// tools/ports.h: the /proc parsers, the bind check and the holder of a port.
#include "tools/ports.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace grapevine::tools {
namespace {

TEST(PortsTest, ParsesThePortRange) {
  auto r = ParsePortRange("32768\t60999\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->first, 32768);
  EXPECT_EQ(r->last, 60999);
  EXPECT_TRUE(r->Overlaps(47000, 47007));
  EXPECT_TRUE(r->Overlaps(32000, 32768));
  EXPECT_FALSE(r->Overlaps(30000, 30255));
  EXPECT_FALSE(r->Overlaps(61000, 61010));
  EXPECT_FALSE(ParsePortRange("").ok());
  EXPECT_FALSE(ParsePortRange("60999 32768").ok());
  EXPECT_FALSE(ParsePortRange("1 70000").ok());
}

TEST(PortsTest, ParsesProcNetTcp) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:B798 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000  "
      "      0 123456 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:8CA0 0100007F:B798 01 00000000:00000000 00:00000000 00000000  1000  "
      "      0 0 1 0000000000000000 20 4 30 10 -1\n"
      "   2: garbage\n";
  auto rows = ParseProcNetTcp(text);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].local_port, 0xB798);
  EXPECT_TRUE(rows[0].listening());
  EXPECT_EQ(rows[0].inode, 123456u);
  EXPECT_EQ(rows[1].local_port, 0x8CA0);
  EXPECT_FALSE(rows[1].listening());
}

// A listening socket of this process on 127.0.0.1, on a port the kernel picks.
struct Listener {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int port = 0;
  Listener() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 && listen(fd, 1) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
  }
  ~Listener() { close(fd); }
};

TEST(PortsTest, HeldPortIsNamedWithItsHolder) {
  Listener held;
  ASSERT_GT(held.port, 0);
  bool in_use = false;
  EXPECT_FALSE(TryBind("127.0.0.1", held.port, &in_use).ok());
  EXPECT_TRUE(in_use);
  const auto uses = PortUses(held.port);
  ASSERT_FALSE(uses.empty());
  EXPECT_NE(DescribePortUses(uses).find("listening socket of pid " + std::to_string(getpid())),
            std::string::npos)
      << DescribePortUses(uses);

  const std::string addr = "127.0.0.1:" + std::to_string(held.port);
  Status s = WaitUntilBindable("n3", addr, std::chrono::milliseconds(5000));
  ASSERT_FALSE(s.ok());
  // A listener: no waiting, and the message names node, address and holder.
  EXPECT_NE(s.message().find("node 'n3': cannot listen on " + addr), std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("pid " + std::to_string(getpid())), std::string::npos);
}

TEST(PortsTest, FreePortIsBindableAndForeignAddressIsNot) {
  int port = 0;
  {
    Listener l;
    port = l.port;
  }
  ASSERT_GT(port, 0);
  EXPECT_TRUE(WaitUntilBindable("n0", "127.0.0.1:" + std::to_string(port),
                                std::chrono::milliseconds(0))
                  .ok());
  // 192.0.2.1 (TEST-NET-1) is no address of this machine.
  Status s = WaitUntilBindable("n1", "192.0.2.1:30000", std::chrono::milliseconds(0));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("node 'n1'"), std::string::npos) << s.message();
  EXPECT_FALSE(WaitUntilBindable("n2", "nonsense", std::chrono::milliseconds(0)).ok());
}

}  // namespace
}  // namespace grapevine::tools
