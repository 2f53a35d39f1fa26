#include "tools/process_group.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

namespace grapevine::tools {

namespace {
std::atomic<int> g_stop_signal{0};
void OnStopSignal(int sig) { g_stop_signal.store(sig); }

int DecodeWaitStatus(int wstatus, bool* signalled) {
  if (WIFEXITED(wstatus)) {
    *signalled = false;
    return WEXITSTATUS(wstatus);
  }
  *signalled = true;
  return 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
}
}  // namespace

void InstallStopSignalHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGHUP, &sa, nullptr);
}
bool StopRequested() { return g_stop_signal.load() != 0; }
int StopSignal() { return g_stop_signal.load(); }

std::string SelfExecutable() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "grapevine";
  buf[n] = '\0';
  return buf;
}

ProcessGroup::~ProcessGroup() { StopAll(std::chrono::milliseconds(3000)); }

Result<pid_t> ProcessGroup::Start(const std::vector<std::string>& argv,
                                  const std::string& log_path) {
  if (argv.empty()) return Status::Invalid("empty command");
  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status::IoError("cannot open " + log_path + ": " + std::strerror(errno));
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t group = pgid_;
  pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return Status::Internal(std::string("fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // launcher already gone
    setpgid(0, group);                    // 0: become leader of a new group
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  close(log_fd);
  setpgid(pid, group == 0 ? pid : group);  // both sides, to win the race with exec
  if (pgid_ == 0) pgid_ = pid;
  children_.push_back(Child{pid, true, std::nullopt});
  return pid;
}

std::vector<ChildExit> ProcessGroup::Poll() {
  std::vector<ChildExit> exits;
  for (size_t i = 0; i < children_.size(); ++i) {
    Child& c = children_[i];
    if (!c.running) continue;
    int wstatus = 0;
    pid_t r = waitpid(c.pid, &wstatus, WNOHANG);
    if (r == c.pid) {
      c.running = false;
      ChildExit e;
      e.index = i;
      e.status = DecodeWaitStatus(wstatus, &e.signalled);
      c.exit = e;
      exits.push_back(e);
    }
  }
  return exits;
}

size_t ProcessGroup::running() const {
  size_t n = 0;
  for (const auto& c : children_) n += c.running ? 1 : 0;
  return n;
}

void ProcessGroup::StopAll(std::chrono::milliseconds grace) {
  if (running() == 0) return;
  for (auto& c : children_) {
    if (c.running) kill(c.pid, SIGTERM);
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (running() > 0 && std::chrono::steady_clock::now() < deadline) {
    Poll();
    if (running() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& c : children_) {
    if (c.running) kill(c.pid, SIGKILL);
  }
  for (auto& c : children_) {
    if (!c.running) continue;
    int wstatus = 0;
    waitpid(c.pid, &wstatus, 0);
    c.running = false;
  }
}

}  // namespace grapevine::tools
