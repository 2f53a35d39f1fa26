// Integration-test harness (see harness.h).
#include "tests/integration/harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

extern char** environ;

namespace grapevine::integration {

namespace fs = std::filesystem;

std::string GrapevineBin() { return GRAPEVINE_BIN; }

std::string Addr(int port) { return "127.0.0.1:" + std::to_string(port); }

int FreePort() {
  static std::set<int> handed_out;
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) continue;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t len = sizeof(a);
    int port = -1;
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
      port = ntohs(a.sin_port);
    }
    close(fd);
    if (port > 0 && handed_out.insert(port).second) return port;
  }
  ADD_FAILURE() << "no free port";
  return 0;
}

bool WaitUntil(const std::function<bool()>& condition, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(100));
  }
}

std::string ReadFileOrEmpty(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << contents;
}

std::vector<nlohmann::json> ReadJsonl(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::istringstream in(ReadFileOrEmpty(path));
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_discarded()) lines.push_back(std::move(j));
  }
  return lines;
}

long RssKib(pid_t pid) {
  std::istringstream in(ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

namespace {
// Fields of /proc/PID/stat after the command name: state, ppid, ...
bool StatFields(pid_t pid, char* state, pid_t* ppid) {
  std::string stat = ReadFileOrEmpty("/proc/" + std::to_string(pid) + "/stat");
  auto close_paren = stat.rfind(')');
  if (close_paren == std::string::npos) return false;
  std::istringstream rest(stat.substr(close_paren + 1));
  long parent = 0;
  if (!(rest >> *state >> parent)) return false;
  *ppid = static_cast<pid_t>(parent);
  return true;
}
}  // namespace

bool ProcessAlive(pid_t pid) {
  char state = 0;
  pid_t ppid = 0;
  return StatFields(pid, &state, &ppid) && state != 'Z' && state != 'X';
}

std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::atol(name.c_str()));
    char state = 0;
    pid_t ppid = 0;
    if (StatFields(pid, &state, &ppid) && ppid == parent && state != 'Z') out.push_back(pid);
  }
  return out;
}

std::string FindProgram(const std::string& name) {
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  if (const char* p = std::getenv("PATH")) path = std::string(p) + ":" + path;
  std::istringstream dirs(path);
  for (std::string d; std::getline(dirs, d, ':');) {
    if (d.empty()) continue;
    const std::string candidate = d + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

int KillStrayChildren(milliseconds timeout) {
  int killed = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    std::vector<pid_t> children = ChildrenOf(getpid());
    if (children.empty() || std::chrono::steady_clock::now() >= deadline) break;
    for (pid_t pid : children) {
      if (kill(pid, SIGKILL) == 0) ++killed;
    }
    for (pid_t pid : children) waitpid(pid, nullptr, 0);
  }
  // Reap what exited on its own (zombies are not listed by ChildrenOf).
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  return killed;
}

// ---- Process ----------------------------------------------------------------------

namespace {
int DecodeWaitStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// This process's environment with `extra` ("NAME=value") added; a later entry for a
// name overrides an earlier one and the inherited value.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  std::set<std::string> named;
  auto add = [&](const std::string& entry) {
    if (named.insert(entry.substr(0, entry.find('='))).second) env.push_back(entry);
  };
  for (auto it = extra.rbegin(); it != extra.rend(); ++it) add(*it);
  for (char** e = environ; *e != nullptr; ++e) add(*e);
  return env;
}

// posix_spawn of `argv` in a new process group, stdout -> out_path, stderr -> err_path
// (the same file when equal), with `extra_env` added to the environment.
pid_t Spawn(const std::vector<std::string>& argv, const std::string& out_path,
            const std::string& err_path, const std::vector<std::string>& extra_env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (err_path == out_path) {
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, err_path.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
  }
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env = EnvironmentWith(extra_env);
  std::vector<char*> cenv;
  for (auto& e : env) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), cenv.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}
}  // namespace

Process::~Process() { Stop(); }

bool Process::Running() {
  if (exit_code_) return false;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exit_code_ = DecodeWaitStatus(status);
    return false;
  }
  if (r < 0) {  // not our child any more (already reaped)
    exit_code_ = -1;
    return false;
  }
  return true;
}

std::optional<int> Process::Wait(milliseconds timeout) {
  WaitUntil([this] { return !Running(); }, timeout);
  return exit_code_;
}

void Process::Signal(int sig) {
  if (!exit_code_) kill(pid_, sig);
}

void Process::Stop() {
  if (!Running()) return;
  kill(-pid_, SIGTERM);
  kill(pid_, SIGTERM);
  if (Wait(seconds(5))) return;
  kill(-pid_, SIGKILL);
  kill(pid_, SIGKILL);
  int status = 0;
  if (waitpid(pid_, &status, 0) == pid_) exit_code_ = DecodeWaitStatus(status);
  if (!exit_code_) exit_code_ = -1;
}

// ---- IntegrationTest --------------------------------------------------------------

void IntegrationTest::SetUp() {
  std::string tmpl = (fs::temp_directory_path() / "gv-integ-XXXXXX").string();
  ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
  dir_ = tmpl;
}

void IntegrationTest::TearDown() {
  // Every process gets SIGTERM at once, then each is waited for (SIGKILL after 5 s).
  for (auto& p : processes_) {
    if (p->Running()) {
      kill(-p->pid(), SIGTERM);
      kill(p->pid(), SIGTERM);
    }
  }
  for (auto& p : processes_) p->Stop();
  for (pid_t pid : extra_pids_) {
    if (ProcessAlive(pid)) kill(pid, SIGKILL);
  }
  if (HasFailure()) {
    std::fprintf(stderr, "integration test failed; logs kept in %s\n", dir_.c_str());
    for (auto& p : processes_) {
      std::string log = p->Log();
      if (log.size() > 3000) log = "..." + log.substr(log.size() - 3000);
      std::fprintf(stderr, "---- %s ----\n%s\n", p->log_path().c_str(), log.c_str());
    }
  } else {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  processes_.clear();
}

Process& IntegrationTest::Start(const std::string& name, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {GrapevineBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return StartArgv(name, argv);
}

Process& IntegrationTest::StartArgv(const std::string& name, const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env) {
  const std::string log = dir_ + "/" + name + ".log";
  pid_t pid = Spawn(argv, log, log, env);
  EXPECT_GT(pid, 0) << "cannot start " << argv[0];
  processes_.push_back(std::make_unique<Process>(pid, log));
  return *processes_.back();
}

RunResult IntegrationTest::Run(const std::vector<std::string>& args, milliseconds timeout) {
  std::vector<std::string> argv = {GrapevineBin()};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunArgv(argv, timeout);
}

RunResult IntegrationTest::RunArgv(const std::vector<std::string>& argv, milliseconds timeout,
                                   const std::vector<std::string>& env) {
  static int counter = 0;
  const std::string base = dir_ + "/run" + std::to_string(counter++);
  RunResult result;
  pid_t pid = Spawn(argv, base + ".out", base + ".err", env);
  if (pid <= 0) {
    ADD_FAILURE() << "cannot start " << argv[0];
    return result;
  }
  Process p(pid, base + ".out");
  auto code = p.Wait(timeout);
  p.Stop();
  result.exit_code = code ? *code : -1;
  result.output = ReadFileOrEmpty(base + ".out");
  result.errors = ReadFileOrEmpty(base + ".err");
  return result;
}

std::string IntegrationTest::WriteRing(const std::string& name, const std::vector<int>& ports) {
  std::string dot = "graph ring {\n";
  const size_t n = ports.size();
  for (size_t i = 0; i < n; ++i) {
    dot += "  " + std::to_string(i) + " [addr=\"" + Addr(ports[i]) + "\"];\n";
  }
  for (size_t i = 0; i < n && n > 1; ++i) {
    if (n == 2 && i == 1) break;  // a 2-ring is one edge
    dot += "  " + std::to_string(i) + " -- " + std::to_string((i + 1) % n) + ";\n";
  }
  dot += "}\n";
  const std::string path = dir_ + "/" + name;
  WriteFile(path, dot);
  return path;
}

std::optional<nlohmann::json> IntegrationTest::TopoLive(const std::string& addr,
                                                         const std::string& secret_file) {
  std::vector<std::string> args = {"topo", "live", addr, "--json", "--timeout-ms", "1000"};
  if (!secret_file.empty()) {
    args.push_back("--secret-file");
    args.push_back(secret_file);
  }
  RunResult r = Run(args, seconds(20));
  if (r.exit_code != 0) return std::nullopt;
  auto j = nlohmann::json::parse(r.output, nullptr, false);
  if (j.is_discarded()) return std::nullopt;
  return j;
}

int CountInState(const nlohmann::json& live, const std::string& state) {
  int n = 0;
  for (const auto& node : live.value("node_list", nlohmann::json::array())) {
    if (node.value("state", "") == state) ++n;
  }
  return n;
}

nlohmann::json NodeByAddr(const nlohmann::json& live, const std::string& addr) {
  for (const auto& node : live.value("node_list", nlohmann::json::array())) {
    if (node.value("addr", "") == addr) return node;
  }
  return nullptr;
}

double LastAccuracy(const std::string& metrics_path) {
  double acc = -1;
  for (const auto& line : ReadJsonl(metrics_path)) {
    if (line.contains("test_accuracy") && line["test_accuracy"].is_number()) {
      acc = line["test_accuracy"].get<double>();
    }
  }
  return acc;
}

}  // namespace grapevine::integration
