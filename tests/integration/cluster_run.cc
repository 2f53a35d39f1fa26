#include "tests/integration/cluster_run.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <random>

#include "tests/integration/harness.h"

namespace grapevine::integration {

std::vector<std::string> ClusterTrainingFlags() {
  return {"--algo",       "wa",   "--data",            "synthetic", "--model",
          "mlp:20-32-4",  "--rounds", std::to_string(kClusterRounds), "--local-steps", "20",
          "--membership", "fast", "--deadline-max-ms", "500",       "--linger-ms", "300"};
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

void WriteAddrLessRing(const std::string& path, int n, bool auto_attr) {
  std::string dot = "graph ring {\n";
  for (int i = 0; i < n; ++i) {
    dot += "  " + std::to_string(i) + (auto_attr ? " [addr=\"auto\"];\n" : ";\n");
  }
  for (int i = 0; i < n; ++i) {
    dot += "  " + std::to_string(i) + " -- " + std::to_string((i + 1) % n) + ";\n";
  }
  WriteFile(path, dot + "}\n");
}

namespace {
bool PortFree(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}
}  // namespace

int FreePortRun(int count) {
  // Below the usual ephemeral range (32768-60999), where FreePort() draws from, and
  // away from launch's default 30000-30255.
  std::mt19937 rng(static_cast<uint32_t>(getpid()) ^
                   static_cast<uint32_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  std::uniform_int_distribution<int> pick(20000, 29000);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int base = pick(rng);
    bool all = true;
    for (int k = 0; k < count && all; ++k) all = PortFree(base + k);
    if (all) return base;
  }
  ADD_FAILURE() << "no run of " << count << " free ports in 20000-29000";
  return 0;
}

void ExpectEveryRankTrainedAsItsNode(const std::string& pattern, int tasks) {
  for (int r = 0; r < tasks; ++r) {
    std::string path = pattern;
    path.replace(path.find("RANK"), 4, std::to_string(r));
    const auto lines = ReadJsonl(path);
    if (static_cast<int>(lines.size()) != kClusterRounds) {
      ADD_FAILURE() << path << ": " << lines.size() << " rounds, want " << kClusterRounds;
      continue;
    }
    int merged = 0;
    for (const auto& line : lines) {
      EXPECT_EQ(line.value("node", -1), r) << "rank " << r << " ran another node: " << line;
      merged += line.value("models_merged", 0);
    }
    EXPECT_EQ(lines.back().value("round", -1), kClusterRounds - 1) << path;
    EXPECT_GT(merged, 0) << "rank " << r << " merged no neighbour model";
    EXPECT_GT(LastAccuracy(path), 0.6) << "rank " << r << " did not train";
  }
}

}  // namespace grapevine::integration
