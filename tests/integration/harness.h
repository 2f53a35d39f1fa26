// Integration-test harness: starts real `grapevine` processes on 127.0.0.1, polls their
// metrics files and `grapevine topo live`, and stops every process it started.
//
// Ownership: an IntegrationTest owns a temporary directory and a ProcessSet; TearDown
// (which gtest runs even after a failed assertion) sends SIGTERM to every process group
// it started, then SIGKILL after 5 s, and reaps them. Processes are started in their own
// process group so a test can signal one without touching the test runner.
//
// Thread-safety: none; one test thread uses a harness.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace grapevine::integration {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Where Debian's dataset-fashion-mnist puts the data; tests that train skip without it.
inline constexpr const char* kFashionMnist = "/usr/share/datasets/fashion-mnist";

// Wall-clock seconds since t.
inline double SecondsSince(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Path of the grapevine executable under test (compile definition GRAPEVINE_BIN).
std::string GrapevineBin();

// A free TCP port on 127.0.0.1 (bound with port 0, then released). Ports already
// handed out by this process are never returned twice.
int FreePort();

// Polls `condition` every 100 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout);

std::string ReadFileOrEmpty(const std::string& path);
void WriteFile(const std::string& path, const std::string& contents);
// Every line of a JSONL file that parses (a half-written last line is skipped).
std::vector<nlohmann::json> ReadJsonl(const std::string& path);
// VmRSS of a process in KiB, or -1.
long RssKib(pid_t pid);
// True while /proc/PID exists and is not a zombie.
bool ProcessAlive(pid_t pid);
// Pids whose parent is `parent` (from /proc/*/stat).
std::vector<pid_t> ChildrenOf(pid_t parent);

// Full path of an executable found in PATH or the sbin folders; empty when missing.
std::string FindProgram(const std::string& name);

// SIGKILLs and reaps every child of this process still running — orphans that were
// re-parented to it as a child subreaper (prctl PR_SET_CHILD_SUBREAPER), e.g. the
// tasks of a launcher that was killed. Call after every Process was stopped. Returns
// how many it killed.
int KillStrayChildren(milliseconds timeout = seconds(5));

// One started process; its stdout and stderr go to one log file.
class Process {
 public:
  Process(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  ~Process();  // Stop()
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string Log() const { return ReadFileOrEmpty(log_path_); }
  // Reaps without blocking; true while the process runs.
  bool Running();
  // Exit status once exited (128 + signal for a signal), else nullopt.
  std::optional<int> exit_code() const { return exit_code_; }
  // Waits up to `timeout` for the exit; returns the exit code or nullopt.
  std::optional<int> Wait(milliseconds timeout);
  void Signal(int sig);  // to the process only
  // SIGTERM to the process group, SIGKILL after 5 s, then reap. Idempotent.
  void Stop();

 private:
  pid_t pid_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

struct RunResult {
  int exit_code = -1;  // -1: timed out (and killed)
  std::string output;  // stdout
  std::string errors;  // stderr
};

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  const std::string& dir() const { return dir_; }
  // Starts `grapevine ARGS...`; output goes to DIR/<name>.log.
  Process& Start(const std::string& name, const std::vector<std::string>& args);
  // Starts any program (argv[0] looked up in PATH); output goes to DIR/<name>.log.
  // StartArgv and RunArgv add `env` ("NAME=value") to this process's environment (a
  // later entry for a name wins).
  Process& StartArgv(const std::string& name, const std::vector<std::string>& argv,
                     const std::vector<std::string>& env = {});
  // Runs `grapevine ARGS...` to completion (killed after `timeout`).
  RunResult Run(const std::vector<std::string>& args, milliseconds timeout = seconds(30));
  // Runs any program (argv[0] looked up in PATH) to completion.
  RunResult RunArgv(const std::vector<std::string>& argv, milliseconds timeout = seconds(30),
                    const std::vector<std::string>& env = {});
  // Writes DIR/<name> as a DOT ring of `ports.size()` nodes "0".."n-1" on 127.0.0.1.
  std::string WriteRing(const std::string& name, const std::vector<int>& ports);
  // `grapevine topo live ADDR --json`; nullopt when it fails.
  std::optional<nlohmann::json> TopoLive(const std::string& addr,
                                         const std::string& secret_file = "");
  // Extra pids (not our children) to SIGKILL in TearDown, e.g. agents of a launcher.
  void AlsoKillAtEnd(pid_t pid) { extra_pids_.push_back(pid); }

 private:
  std::string dir_;
  std::vector<std::unique_ptr<Process>> processes_;
  std::vector<pid_t> extra_pids_;
};

// Counts node_list entries of a `topo live --json` object with this state.
int CountInState(const nlohmann::json& live, const std::string& state);
// The node_list entry whose addr is `addr`, or null json.
nlohmann::json NodeByAddr(const nlohmann::json& live, const std::string& addr);
// The last test_accuracy in a metrics file, or -1.
double LastAccuracy(const std::string& metrics_path);
std::string Addr(int port);

}  // namespace grapevine::integration
