// Integration: grapevine under a real Slurm (issue 13, "Real cluster launchers";
// DESIGN §10). Each test starts a single-node Slurm cluster of its own — its own munge
// key and munged socket, slurm.conf, spool and state folders under the test's temp
// folder, its own free SlurmctldPort/SlurmdPort — and runs `srun` / `sbatch` against it:
//  - srun -n 8 on a ring8 file: every task runs the node of its SLURM_PROCID and the
//    swarm trains;
//  - examples/slurm/train.sbatch (the script the README quotes) through `sbatch`:
//    an addr-less ring, --base-port, every node on the Slurm host at base + rank;
//  - bad input under srun exits 2 with the reason.
// The cluster is shut down in order on every exit path (TearDown): jobs cancelled,
// slurmd, slurmctld, munged stopped, and any task or slurmstepd left over — re-parented
// to this test as a child subreaper — killed. Daemons run under `setpriv --pdeathsig
// KILL`, so they die with the test even if it is killed, and a guardian process then
// kills what is left of the cluster's steps (StartGuardian).
// Skips (not fails) where the Slurm or munge programs are missing or we are not root.
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "tests/integration/cluster_run.h"
#include "tests/integration/harness.h"

extern char** environ;

namespace grapevine::integration {
namespace {

namespace fs = std::filesystem;

constexpr int kTasks = 8;

std::string ShortHostName() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "";
  std::string host(name);
  return host.substr(0, host.find('.'));
}

bool Resolves(const std::string& host) {
  addrinfo* result = nullptr;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &result) != 0) return false;
  freeaddrinfo(result);
  return true;
}

class SlurmTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    for (const char* program : {"munged", "slurmctld", "slurmd", "srun", "sbatch", "scancel",
                                "scontrol", "sinfo", "setpriv"}) {
      std::string path = FindProgram(program);
      if (path.empty()) {
        GTEST_SKIP() << program << " is not installed (Debian: slurm-wlm, munge; "
                     << "scripts/install-deps.sh installs them)";
      }
      bin_[program] = path;
    }
    if (geteuid() != 0) GTEST_SKIP() << "the Slurm test runs slurmd, which needs root";
    host_ = ShortHostName();
    if (host_.empty() || !Resolves(host_)) {
      GTEST_SKIP() << "this machine's host name '" << host_
                   << "' does not resolve; agents listen on the Slurm node's name";
    }
    // Orphaned slurmstepd and tasks come to us, so TearDown can kill them.
    ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
    StartGuardian();
    StartCluster();
  }

  // If this test process dies without its TearDown (SIGKILL, a crash), the daemons die
  // with it (pdeathsig), but a running step's slurmstepd and tasks would be re-parented
  // to init. The guardian — its own process group, so Ctrl-C and our death do not reach
  // it — waits for the pipe we hold to close, then SIGKILLs every process whose
  // environment has our SLURM_CONF (this test's unique temp path; slurmd passes it to
  // slurmstepd and srun to the tasks). After a normal TearDown it finds nothing.
  void StartGuardian() {
    int fds[2];
    ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
    const std::string script =
        "read -r _; for e in /proc/[0-9]*/environ; do "
        "if tr '\\0' '\\n' < \"$e\" 2>/dev/null | grep -qxF \"SLURM_CONF=$1\"; then "
        "p=${e#/proc/}; kill -9 \"${p%/environ}\" 2>/dev/null; fi; done";
    std::vector<std::string> argv = {"/bin/bash", "-c", script, "guardian",
                                     dir() + "/slurm.conf"};
    std::vector<char*> cargv;
    for (auto& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    const int rc = posix_spawn(&guardian_, cargv[0], &actions, &attr, cargv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(fds[0]);
    guardian_pipe_ = fds[1];
    ASSERT_EQ(rc, 0) << "cannot start the guardian";
  }

  void StopGuardian() {
    if (guardian_pipe_ >= 0) close(guardian_pipe_);
    guardian_pipe_ = -1;
    if (guardian_ > 0) {
      const bool done = WaitUntil([&] { return waitpid(guardian_, nullptr, WNOHANG) != 0; },
                                  seconds(10));
      if (!done) {
        kill(guardian_, SIGKILL);
        waitpid(guardian_, nullptr, 0);
      }
    }
    guardian_ = -1;
  }

  void TearDown() override {
    if (cluster_up_) {
      RunArgv({bin_["scancel"], "--full", "--user=root"}, seconds(10), env_);
    }
    // The daemons in reverse start order, each given 5 s for SIGTERM; then whatever
    // slurmstepd or task outlived them.
    for (auto it = daemons_.rbegin(); it != daemons_.rend(); ++it) (*it)->Stop();
    StopGuardian();
    if (const int strays = KillStrayChildren(); strays > 0) {
      std::fprintf(stderr, "killed %d processes left behind by the Slurm shutdown\n", strays);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
    IntegrationTest::TearDown();
  }

  void StartCluster() {
    const std::string d = dir();
    for (const char* sub : {"state", "spool", "munge"}) fs::create_directories(d + "/" + sub);
    // A munge key of our own: 1 KiB of random bytes, owner-only.
    {
      std::ifstream random("/dev/urandom", std::ios::binary);
      std::string key(1024, '\0');
      random.read(key.data(), static_cast<std::streamsize>(key.size()));
      WriteFile(d + "/munge/key", key);
      fs::permissions(d + "/munge/key", fs::perms::owner_read | fs::perms::owner_write);
    }
    const std::string socket = d + "/munge/socket";
    const std::string conf = d + "/slurm.conf";
    WriteFile(conf, SlurmConf(socket, FreePort(), FreePort()));
    env_ = {"SLURM_CONF=" + conf};

    Daemon("munged", {bin_["munged"], "--foreground", "--force", "--socket=" + socket,
                      "--key-file=" + d + "/munge/key", "--pid-file=" + d + "/munge/pid",
                      "--seed-file=" + d + "/munge/seed", "--log-file=" + d + "/munge/log"});
    ASSERT_TRUE(WaitUntil([&] { return fs::exists(socket); }, seconds(10)))
        << "munged made no socket";
    Daemon("slurmctld", {bin_["slurmctld"], "-D", "-i", "-f", conf});
    Daemon("slurmd", {bin_["slurmd"], "-D", "-f", conf, "-N", host_});
    cluster_up_ = true;
    std::string state;
    const bool idle = WaitUntil(
        [&] {
          state = RunArgv({bin_["sinfo"], "-h", "-N", "-o", "%T"}, seconds(5), env_).output;
          return state.rfind("idle", 0) == 0;
        },
        seconds(30));
    ASSERT_TRUE(idle) << "the Slurm node never became idle (last sinfo: '" << state << "')";
  }

  std::string SlurmConf(const std::string& munge_socket, int ctld_port, int slurmd_port) const {
    const std::string d = dir();
    return "ClusterName=gvtest\n"
           "SlurmctldHost=" + host_ + "(127.0.0.1)\n"
           "SlurmctldPort=" + std::to_string(ctld_port) + "\n"
           "SlurmdPort=" + std::to_string(slurmd_port) + "\n"
           "SlurmUser=root\nSlurmdUser=root\n"
           "AuthType=auth/munge\nCredType=cred/munge\n"
           "AuthInfo=socket=" + munge_socket + "\n"
           "StateSaveLocation=" + d + "/state\n"
           "SlurmdSpoolDir=" + d + "/spool\n"
           "SlurmctldPidFile=" + d + "/slurmctld.pid\n"
           "SlurmdPidFile=" + d + "/slurmd.pid\n"
           "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
           "SelectType=select/cons_tres\nSelectTypeParameters=CR_Core\n"
           "SchedulerType=sched/builtin\nMpiDefault=none\nReturnToService=2\n"
           "JobAcctGatherType=jobacct_gather/none\n"
           "AccountingStorageType=accounting_storage/none\n"
           // This machine has 2 cores; the node claims enough for 8 one-CPU tasks.
           "SlurmdParameters=config_overrides\n"
           "SlurmctldDebug=info\nSlurmdDebug=info\n"
           "NodeName=" + host_ + " NodeAddr=127.0.0.1 CPUs=" + std::to_string(kTasks) +
           " State=UNKNOWN\n"
           "PartitionName=gv Nodes=" + host_ + " Default=YES MaxTime=INFINITE State=UP\n";
  }

  void Daemon(const std::string& name, std::vector<std::string> argv) {
    argv.insert(argv.begin(), {bin_["setpriv"], "--pdeathsig", "KILL", "--"});
    daemons_.push_back(&StartArgv(name, argv, env_));
  }

  RunResult Srun(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {bin_["srun"]};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunArgv(argv, seconds(60), env_);
  }

  std::map<std::string, std::string> bin_;
  std::string host_;
  std::vector<std::string> env_;
  std::vector<Process*> daemons_;  // in start order
  bool cluster_up_ = false;
  pid_t guardian_ = -1;
  int guardian_pipe_ = -1;  // write end; closing it sets the guardian off
};

TEST_F(SlurmTest, SrunRunsEachTaskAsTheNodeOfItsProcidAndTheSwarmTrains) {
  std::vector<int> ports;
  for (int i = 0; i < kTasks; ++i) ports.push_back(FreePort());
  const std::string ring = WriteRing("ring8.dot", ports);
  // No --node: each agent takes its node from SLURM_PROCID; the metrics file is named
  // by Slurm's SLURM_PROCID, the "node" inside by the agent's own choice.
  const std::string agent = GrapevineBin() + " agent --topology " + ring + " --metrics " +
                            dir() + "/rank-$SLURM_PROCID.jsonl " + JoinWords(ClusterTrainingFlags());
  RunResult r = Srun({"-n", std::to_string(kTasks), "bash", "-c", "exec " + agent});
  ASSERT_EQ(r.exit_code, 0) << r.output << r.errors;
  ExpectEveryRankTrainedAsItsNode(dir() + "/rank-RANK.jsonl", kTasks);
}

TEST_F(SlurmTest, TheReadmeBatchScriptTrainsAnAddrLessRingWithBasePort) {
  const std::string script = std::string(GRAPEVINE_SOURCE_DIR) + "/examples/slurm/train.sbatch";
  const int base = FreePortRun(kTasks);
  const std::string out = dir() + "/run";
  std::vector<std::string> argv = {bin_["sbatch"], "--parsable", "--chdir=" GRAPEVINE_SOURCE_DIR,
                                   "--output=" + dir() + "/job.out", script};
  for (const auto& flag : ClusterTrainingFlags()) argv.push_back(flag);
  std::vector<std::string> env = env_;
  env.insert(env.end(), {"GRAPEVINE=" + GrapevineBin(), "OUT=" + out,
                         "BASE_PORT=" + std::to_string(base)});
  RunResult submitted = RunArgv(argv, seconds(20), env);
  ASSERT_EQ(submitted.exit_code, 0) << submitted.output << submitted.errors;
  const std::string id = submitted.output.substr(0, submitted.output.find_first_of(";\n"));
  // Polled here rather than with `sbatch --wait`, whose back-off took 8 s more.
  std::string state;
  const bool ended = WaitUntil(
      [&] {
        state = RunArgv({bin_["scontrol"], "show", "job", id}, seconds(10), env_).output;
        return state.find("JobState=PENDING") == std::string::npos &&
               state.find("JobState=RUNNING") == std::string::npos &&
               state.find("JobState=COMPLETING") == std::string::npos &&
               state.find("JobState=") != std::string::npos;
      },
      seconds(60));
  const std::string job = ReadFileOrEmpty(dir() + "/job.out");
  ASSERT_TRUE(ended) << "job " << id << " did not end: " << state << job;
  ASSERT_NE(state.find("JobState=COMPLETED"), std::string::npos) << state << job;
  ASSERT_NE(state.find("ExitCode=0:0"), std::string::npos) << state << job;
  // Node r listened on the Slurm node's name at base + its local task index (= r here).
  for (int rank = 0; rank < kTasks; ++rank) {
    const std::string addr = host_ + ":" + std::to_string(base + rank);
    EXPECT_NE(job.find("node " + std::to_string(rank) + " (" + addr + ")"), std::string::npos)
        << "node " << rank << " did not listen at " << addr << "\n" << job;
  }
  ExpectEveryRankTrainedAsItsNode(out + "/node-RANK.jsonl", kTasks);
}

TEST_F(SlurmTest, BadInputUnderSrunExitsTwoWithTheReason) {
  const std::string ring = dir() + "/auto8.dot";
  WriteAddrLessRing(ring, kTasks, /*auto_attr=*/false);
  const std::vector<std::string> agent = {GrapevineBin(), "agent", "--topology", ring,
                                          "--data", "synthetic", "--rounds", "1"};
  RunResult no_port = Srun([&] {
    std::vector<std::string> a = {"-n", std::to_string(kTasks)};
    a.insert(a.end(), agent.begin(), agent.end());
    return a;
  }());
  EXPECT_EQ(no_port.exit_code, 2) << no_port.output << no_port.errors;
  EXPECT_NE(no_port.errors.find("node '0' has no addr: give it addr=HOST:PORT, or start the "
                                "agents with srun and --base-port P"),
            std::string::npos)
      << no_port.errors;

  std::vector<std::string> four = {"-n", "4"};
  four.insert(four.end(), agent.begin(), agent.end());
  four.insert(four.end(), {"--base-port", std::to_string(FreePortRun(4))});
  RunResult too_few = Srun(four);
  EXPECT_EQ(too_few.exit_code, 2) << too_few.output << too_few.errors;
  EXPECT_NE(too_few.errors.find("node 4 has no addr and no task runs it (the topology has 8 "
                                "nodes, the Slurm allocation (SLURM_STEP_NODELIST=" + host_ +
                                ", SLURM_STEP_TASKS_PER_NODE=4) has 4 tasks)"),
            std::string::npos)
      << too_few.errors;
}

// The README quotes the batch script the test above runs, verbatim.
TEST(ClusterDocsTest, ReadmeQuotesTheBatchScriptVerbatim) {
  const std::string script =
      ReadFileOrEmpty(std::string(GRAPEVINE_SOURCE_DIR) + "/examples/slurm/train.sbatch");
  const std::string readme = ReadFileOrEmpty(std::string(GRAPEVINE_SOURCE_DIR) + "/README.md");
  ASSERT_FALSE(script.empty());
  EXPECT_NE(readme.find("```bash\n" + script + "```\n"), std::string::npos)
      << "README.md's \"On a cluster\" section must quote examples/slurm/train.sbatch as it is";
}

}  // namespace
}  // namespace grapevine::integration
