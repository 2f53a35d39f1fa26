// ProcessGroup: child processes started by `grapevine launch`, stopped together.
//
// Every child runs in one new process group (so a terminal's Ctrl-C reaches only the
// launcher, which then stops the children in order) and asks the kernel for SIGTERM
// when the launcher dies (PR_SET_PDEATHSIG), so no child outlives it — not even when
// the launcher itself is killed with SIGKILL.
//
// Thread-safety: one thread (the launcher's main thread).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace grapevine::tools {

struct ChildExit {
  size_t index = 0;  // position in the order of Start() calls
  int status = 0;    // exit code, or 128 + signal number
  bool signalled = false;
};

class ProcessGroup {
 public:
  ProcessGroup() = default;
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;
  ~ProcessGroup();  // StopAll()

  // Starts argv[0] with argv; stdout and stderr go to `log_path` (appended).
  Result<pid_t> Start(const std::vector<std::string>& argv, const std::string& log_path);

  // Reaps children that have exited (non-blocking).
  std::vector<ChildExit> Poll();
  size_t running() const;
  size_t size() const { return children_.size(); }

  // SIGTERM to every running child, SIGKILL to those still alive after `grace`.
  void StopAll(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

 private:
  struct Child {
    pid_t pid = -1;
    bool running = false;
    std::optional<ChildExit> exit;
  };
  pid_t pgid_ = 0;
  std::vector<Child> children_;
};

// Installs SIGINT/SIGTERM handlers that only set a flag; returns the flag's reader.
void InstallStopSignalHandlers();
bool StopRequested();
int StopSignal();

// Absolute path of the running executable (/proc/self/exe).
std::string SelfExecutable();

}  // namespace grapevine::tools
