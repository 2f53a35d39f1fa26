// The testbed itself (tests/testbed/testbed.h): hosts reach each other, shaped links
// carry their rate, faults cut what they should and nothing else, and nothing is left
// behind — after Destroy, after Ctrl-C, after kill -9 (SweepStale).
#include "tests/testbed/testbed.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "tests/integration/harness.h"

namespace grapevine::testbed {
namespace {

using integration::IntegrationTest;
using integration::milliseconds;
using integration::seconds;
using integration::WaitUntil;

std::unique_ptr<Testbed> MakeOrSkip(const TestbedOptions& o, std::string* skip) {
  auto tb = Testbed::Create(o);
  if (!tb.ok()) {
    if (tb.status().code() == StatusCode::kUnavailable) *skip = tb.status().message();
    else ADD_FAILURE() << tb.status().message();
    return nullptr;
  }
  return std::move(*tb);
}

#define TESTBED_OR_SKIP(var, options)               \
  std::string skip_reason;                          \
  auto var = MakeOrSkip(options, &skip_reason);     \
  if (!skip_reason.empty()) GTEST_SKIP() << skip_reason; \
  ASSERT_NE(var, nullptr)

TEST(TestbedTest, HostsReachEachOtherAndDestroyLeavesNothing) {
  TestbedOptions o;
  o.hosts = 3;
  TESTBED_OR_SKIP(tb, o);
  const std::string prefix = tb->prefix();
  EXPECT_EQ(ListNamespaces(prefix + "-").size(), 4u);  // 3 hosts + the bridge's
  EXPECT_EQ(tb->Address(0), "10.99.0.1");
  EXPECT_EQ(tb->Address(2), "10.99.0.3");
  EXPECT_TRUE(tb->CanConnect(0, 2, 2000));
  EXPECT_TRUE(tb->CanConnect(2, 1, 2000));
  // A process inside a host namespace is killed with it.
  pid_t child = fork();
  if (child == 0) {
    execlp("ip", "ip", "netns", "exec", tb->Namespace(1).c_str(), "sleep", "60",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  ASSERT_GT(child, 0);
  ASSERT_TRUE(WaitUntil([&] { return integration::ReadFileOrEmpty("/proc/" + std::to_string(child) + "/comm") == "sleep\n"; },
                        seconds(5)));
  tb->Destroy();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  EXPECT_TRUE(ListNamespaces(prefix + "-").empty());
}

TEST(TestbedTest, ShapedLinksCarryTheirRate) {
  TestbedOptions o;
  o.hosts = 4;
  o.groups = {"a", "a", "b", "b"};
  o.host_rate = "200mbit";
  o.uplink_rate = "40mbit";
  TESTBED_OR_SKIP(tb, o);
  EXPECT_EQ(tb->groups(), 2);
  EXPECT_EQ(tb->Address(2), "10.99.1.1");
  auto inside = tb->MeasureMbit(0, 1, 12'000'000);
  auto between = tb->MeasureMbit(3, 0, 6'000'000);
  ASSERT_TRUE(inside.ok()) << inside.status().message();
  ASSERT_TRUE(between.ok()) << between.status().message();
  std::printf("[ figures ] host links 200mbit: %.1f Mbit/s inside a group; uplinks 40mbit: "
              "%.1f Mbit/s between groups\n", *inside, *between);
  // A token bucket never lets more through than its rate (plus one burst over the
  // transfer); the lower bounds only say the link is shaped, not starved.
  EXPECT_LT(*inside, 200 * 1.15);
  EXPECT_GT(*inside, 200 * 0.4);
  EXPECT_LT(*between, 40 * 1.15);
  EXPECT_GT(*between, 40 * 0.4);
  // Slowing a link at run time.
  ASSERT_TRUE(tb->SetHostRate(1, "20mbit").ok());
  auto slowed = tb->MeasureMbit(0, 1, 3'000'000);
  ASSERT_TRUE(slowed.ok()) << slowed.status().message();
  std::printf("[ figures ] host 1 slowed to 20mbit: %.1f Mbit/s\n", *slowed);
  EXPECT_LT(*slowed, 20 * 1.15);
  EXPECT_FALSE(tb->SetHostRate(1, "fast").ok());
}

TEST(TestbedTest, CutAndPartitionStopExactlyTheTrafficTheyShould) {
  TestbedOptions o;
  o.hosts = 4;
  TESTBED_OR_SKIP(tb, o);
  ASSERT_TRUE(tb->Cut(3).ok());
  EXPECT_FALSE(tb->CanConnect(0, 3, 500));
  EXPECT_FALSE(tb->CanConnect(3, 1, 500));
  EXPECT_TRUE(tb->CanConnect(0, 2, 2000));
  ASSERT_TRUE(tb->Restore(3).ok());
  EXPECT_TRUE(tb->CanConnect(0, 3, 2000));

  ASSERT_TRUE(tb->Partition({0, 1}).ok());
  EXPECT_TRUE(tb->CanConnect(0, 1, 2000));
  EXPECT_TRUE(tb->CanConnect(2, 3, 2000));
  EXPECT_FALSE(tb->CanConnect(1, 2, 500));
  EXPECT_FALSE(tb->CanConnect(3, 0, 500));
  ASSERT_TRUE(tb->Heal().ok());
  EXPECT_TRUE(tb->CanConnect(1, 2, 2000));
  EXPECT_TRUE(tb->CanConnect(3, 0, 2000));
}

TEST(TestbedTest, PartitionBetweenGroupsIsByWholeGroups) {
  TestbedOptions o;
  o.hosts = 4;
  o.groups = {"a", "a", "b", "b"};
  TESTBED_OR_SKIP(tb, o);
  EXPECT_TRUE(tb->CanConnect(0, 3, 2000));
  Status half = tb->Partition({0});
  EXPECT_FALSE(half.ok());
  EXPECT_NE(half.message().find("whole groups"), std::string::npos) << half.message();
  ASSERT_TRUE(tb->Partition({2, 3}).ok());
  EXPECT_TRUE(tb->CanConnect(2, 3, 2000));
  EXPECT_TRUE(tb->CanConnect(0, 1, 2000));
  EXPECT_FALSE(tb->CanConnect(0, 3, 500));
  ASSERT_TRUE(tb->Heal().ok());
  EXPECT_TRUE(tb->CanConnect(0, 3, 2000));
}

TEST(TestbedTest, BadOptionsAreRefusedBeforeAnythingIsMade) {
  TestbedOptions o;
  o.hosts = 2;
  o.host_rate = "50 furlongs";
  auto tb = Testbed::Create(o);
  ASSERT_FALSE(tb.ok());
  EXPECT_EQ(tb.status().code(), StatusCode::kInvalidInput);
  EXPECT_NE(tb.status().message().find("50 furlongs"), std::string::npos);
  o.host_rate.clear();
  o.groups = {"a"};
  EXPECT_FALSE(Testbed::Create(o).ok());
  EXPECT_DOUBLE_EQ(*ParseRate("50mbit"), 50e6);
  EXPECT_DOUBLE_EQ(*ParseRate("1gbit"), 1e9);
  EXPECT_DOUBLE_EQ(*ParseRate("2.5kbit"), 2500);
  EXPECT_FALSE(ParseRate("mbit").ok());
  EXPECT_FALSE(ParseRate("-3mbit").ok());
}

TEST(TestbedTest, StaleNamespacesOfADeadProcessAreSwept) {
  if (geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  const std::string name = "gvtb-" + std::to_string(dead) + "-0-h0";
  if (system(("ip netns add " + name + " 2>/dev/null").c_str()) != 0) {
    GTEST_SKIP() << "cannot create network namespaces here";
  }
  EXPECT_EQ(ListNamespaces(name).size(), 1u);
  EXPECT_GE(SweepStale(), 1);
  EXPECT_TRUE(ListNamespaces(name).empty());
}

class TestbedToolTest : public IntegrationTest {};

TEST_F(TestbedToolTest, CtrlCTearsEverythingDown) {
  if (geteuid() != 0) GTEST_SKIP() << "network namespaces need root";
  const std::string topo = dir() + "/groups.edges";
  integration::WriteFile(topo, "0 group=a\n1 group=a\n2 group=b\n0 1\n1 2\n2 0\n");
  auto& up = StartArgv("up", {GRAPEVINE_TESTBED_BIN, "up", topo, "--out", dir() + "/tb.dot",
                              "--uplink-rate", "50mbit"});
  const bool ready = WaitUntil([&] { return up.Log().find("Ctrl-C") != std::string::npos || !up.Running(); },
                               seconds(30));
  if (up.Log().find("cannot create network namespaces") != std::string::npos) {
    GTEST_SKIP() << up.Log();
  }
  ASSERT_TRUE(ready) << up.Log();
  ASSERT_TRUE(up.Running()) << up.Log();
  const std::string prefix = "gvtb-" + std::to_string(up.pid()) + "-";
  EXPECT_EQ(ListNamespaces(prefix).size(), 6u) << up.Log();  // 3 hosts, 2 gateways, core
  const std::string dot = integration::ReadFileOrEmpty(dir() + "/tb.dot");
  EXPECT_NE(dot.find("10.99.1.1:47000"), std::string::npos) << dot;
  up.Signal(SIGINT);
  auto code = up.Wait(seconds(20));
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 128 + SIGINT);
  EXPECT_TRUE(ListNamespaces(prefix).empty());
}

TEST_F(TestbedToolTest, BadInputExitsTwo) {
  auto& missing = StartArgv("missing", {GRAPEVINE_TESTBED_BIN, "up", dir() + "/no.dot"});
  EXPECT_EQ(missing.Wait(seconds(10)), 2);
  EXPECT_NE(missing.Log().find("no.dot"), std::string::npos) << missing.Log();
  auto& rate = StartArgv("rate", {GRAPEVINE_TESTBED_BIN, "measure", "--uplink-rate", "fast"});
  EXPECT_EQ(rate.Wait(seconds(10)), 2);
  EXPECT_NE(rate.Log().find("'fast'"), std::string::npos) << rate.Log();
}

}  // namespace
}  // namespace grapevine::testbed
