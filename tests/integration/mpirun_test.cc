// Integration: grapevine under Open MPI's mpirun (issue 13, "Real cluster launchers";
// DESIGN §10): `mpirun -n 4 grapevine agent --topology FILE` runs rank r as node r
// (OMPI_COMM_WORLD_RANK) and the swarm trains; on one host an addr-less file with
// --base-port puts node r on 127.0.0.1 at base + r. Open MPI gives no host list, so
// that is all it can place (docs/cluster.md). Skips where mpirun is missing.
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>

#include "tests/integration/cluster_run.h"
#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

constexpr int kRanks = 4;

class MpirunTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    mpirun_ = FindProgram("mpirun");
    if (mpirun_.empty()) GTEST_SKIP() << "mpirun is not installed (Debian: openmpi-bin)";
    // Ranks orphaned by a killed mpirun come to us, so TearDown can kill them.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
  }
  void TearDown() override {
    if (!mpirun_.empty()) {
      IntegrationTest::TearDown();  // stops mpirun if it still runs
      if (const int strays = KillStrayChildren(); strays > 0) {
        std::fprintf(stderr, "killed %d ranks left behind by mpirun\n", strays);
      }
      prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
      return;
    }
    IntegrationTest::TearDown();
  }

  // mpirun -n 4 [--allow-run-as-root] --oversubscribe bash -c 'exec grapevine agent ...'
  // with the metrics file named by the launcher's OMPI_COMM_WORLD_RANK.
  RunResult Mpirun(const std::vector<std::string>& agent_args) {
    std::vector<std::string> argv = {mpirun_, "-n", std::to_string(kRanks), "--oversubscribe"};
    if (geteuid() == 0) argv.push_back("--allow-run-as-root");
    argv.insert(argv.end(), {"bash", "-c",
                             "exec " + GrapevineBin() + " agent " + JoinWords(agent_args) +
                                 " --metrics " + dir() + "/rank-$OMPI_COMM_WORLD_RANK.jsonl " +
                                 JoinWords(ClusterTrainingFlags())});
    return RunArgv(argv, seconds(60));
  }

  std::string mpirun_;
};

TEST_F(MpirunTest, EachRankRunsTheNodeOfItsRankAndTheSwarmTrains) {
  std::vector<int> ports;
  for (int i = 0; i < kRanks; ++i) ports.push_back(FreePort());
  RunResult r = Mpirun({"--topology", WriteRing("ring4.dot", ports)});
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  ExpectEveryRankTrainedAsItsNode(dir() + "/rank-RANK.jsonl", kRanks);
}

TEST_F(MpirunTest, OnOneHostBasePortPlacesAnAddrLessRingOnLoopback) {
  const std::string ring = dir() + "/auto4.dot";
  WriteAddrLessRing(ring, kRanks, /*auto_attr=*/true);
  const int base = FreePortRun(kRanks);
  RunResult r = Mpirun({"--topology", ring, "--base-port", std::to_string(base)});
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  for (int rank = 0; rank < kRanks; ++rank) {
    const std::string addr = Addr(base + rank);
    EXPECT_NE(r.errors.find("node " + std::to_string(rank) + " (" + addr + ")"),
              std::string::npos)
        << "node " << rank << " did not listen at " << addr << "\n" << r.errors;
  }
  ExpectEveryRankTrainedAsItsNode(dir() + "/rank-RANK.jsonl", kRanks);
}

}  // namespace
}  // namespace grapevine::integration
