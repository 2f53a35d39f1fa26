// Integration: a swarm started with --secret-file answers only those who hold the
// secret — `topo live` without it or with a wrong one fails with "authentication
// failed", and a joiner without it (or with a wrong one) is refused and listed by no
// member (DESIGN §7; issue 4, "what must hold" 4).
#include <random>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

// 32 random bytes, without CR/LF (LoadSecretFile strips a trailing newline).
std::string RandomSecret(uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < 32) {
    char c = static_cast<char>(rng() & 0xff);
    if (c != '\n' && c != '\r') s.push_back(c);
  }
  return s;
}

class SecretTest : public IntegrationTest {
 protected:
  void StartSwarm() {
    secret_ = dir() + "/secret";
    wrong_ = dir() + "/wrong";
    WriteFile(secret_, RandomSecret(1));
    WriteFile(wrong_, RandomSecret(2));
    ports_ = {FreePort(), FreePort()};
    const std::string ring = WriteRing("pair.dot", ports_);
    for (int i = 0; i < 2; ++i) {
      const std::string id = std::to_string(i);
      Start("agent" + id, Concat({"agent", "--topology", ring, "--node", id}, Flags(secret_)));
    }
    ASSERT_TRUE(WaitUntil(
        [&] {
          auto live = TopoLive(Addr(ports_[0]), secret_);
          return live && CountInState(*live, "alive") == 2;
        },
        seconds(20)));
  }
  static std::vector<std::string> Flags(const std::string& secret_file) {
    std::vector<std::string> f = {"--data",       "synthetic", "--model",       "mlp:20-32-4",
                                  "--rounds",     "1000000",   "--local-steps", "200",
                                  "--membership", "fast",      "--deadline-max-ms", "500"};
    if (!secret_file.empty()) {
      f.push_back("--secret-file");
      f.push_back(secret_file);
    }
    return f;
  }
  static std::vector<std::string> Concat(std::vector<std::string> a,
                                         const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  // No member lists `addr`.
  void ExpectNobodyLists(const std::string& addr) {
    for (int port : ports_) {
      auto live = TopoLive(Addr(port), secret_);
      ASSERT_TRUE(live.has_value());
      EXPECT_TRUE(NodeByAddr(*live, addr).is_null()) << live->dump();
    }
  }

  std::string secret_, wrong_;
  std::vector<int> ports_;
};

TEST_F(SecretTest, TopoLiveNeedsTheSecret) {
  StartSwarm();
  RunResult none = Run({"topo", "live", Addr(ports_[0]), "--json"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_NE(none.errors.find("authentication failed"), std::string::npos) << none.errors;

  RunResult wrong = Run({"topo", "live", Addr(ports_[0]), "--json", "--secret-file", wrong_});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.errors.find("authentication failed"), std::string::npos) << wrong.errors;

  RunResult right = Run({"topo", "live", Addr(ports_[0]), "--json", "--secret-file", secret_});
  EXPECT_EQ(right.exit_code, 0) << right.errors;
  auto j = nlohmann::json::parse(right.output, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << right.output;
  EXPECT_EQ(CountInState(j, "alive"), 2);
}

TEST_F(SecretTest, JoinerWithoutOrWithWrongSecretGetsNothing) {
  StartSwarm();
  for (const std::string& file : {std::string(), wrong_}) {
    SCOPED_TRACE(file.empty() ? "no secret" : "wrong secret");
    const std::string listen = Addr(FreePort());
    Process& joiner =
        Start(file.empty() ? "joiner-open" : "joiner-wrong",
              Concat({"agent", "--join", Addr(ports_[1]), "--listen", listen}, Flags(file)));
    auto code = joiner.Wait(seconds(45));
    ASSERT_TRUE(code.has_value()) << "the joiner is still running";
    EXPECT_NE(*code, 0);
    EXPECT_NE(joiner.Log().find("authentication failed"), std::string::npos) << joiner.Log();
    ExpectNobodyLists(listen);
  }
  // And one with the secret is admitted, so the refusals above were about the secret.
  const std::string listen = Addr(FreePort());
  Start("joiner-right",
        Concat({"agent", "--join", Addr(ports_[1]), "--listen", listen}, Flags(secret_)));
  EXPECT_TRUE(WaitUntil(
      [&] {
        auto live = TopoLive(Addr(ports_[0]), secret_);
        return live && NodeByAddr(*live, listen).is_object();
      },
      seconds(15)));
}

}  // namespace
}  // namespace grapevine::integration
