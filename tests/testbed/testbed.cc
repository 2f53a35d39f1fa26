#include "tests/testbed/testbed.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <future>
#include <set>
#include <thread>

#include "topology/dot.h"

extern char** environ;

namespace grapevine::testbed {
namespace {

// ---- running ip / tc ----

struct CommandResult {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandResult RunCommand(const std::vector<std::string>& argv) {
  CommandResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return result;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc == 0) {
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  } else {
    result.output = argv[0] + ": " + std::strerror(rc);
  }
  close(fds[0]);
  return result;
}

std::string Join(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

Status Run(const std::vector<std::string>& argv) {
  CommandResult r = RunCommand(argv);
  if (r.status == 0) return Status::Ok();
  while (!r.output.empty() && r.output.back() == '\n') r.output.pop_back();
  return Status::Internal("testbed: `" + Join(argv) + "` failed: " + r.output);
}

// ---- teardown on signals ----
// The shell command that tears down every live testbed of this process, rebuilt (with
// signals blocked) whenever one is made or destroyed, so the handler only forks and
// execs.
char g_teardown[1 << 16];
std::vector<std::vector<std::string>*> g_live;  // namespaces of each live testbed

void RebuildTeardown() {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  std::string cmd;
  for (const auto* names : g_live) {
    for (auto it = names->rbegin(); it != names->rend(); ++it) {
      cmd += "for p in $(ip netns pids " + *it + " 2>/dev/null); do kill -9 $p; done; ip netns del " +
             *it + " 2>/dev/null; ";
    }
  }
  if (cmd.size() >= sizeof g_teardown) cmd.clear();  // too many to name: SweepStale's job
  std::memcpy(g_teardown, cmd.c_str(), cmd.size() + 1);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

extern "C" void TeardownOnSignal(int sig) {
  if (g_teardown[0] != '\0') {
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", g_teardown, static_cast<char*>(nullptr));
      _exit(127);
    }
    if (pid > 0) waitpid(pid, nullptr, 0);
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

void InstallSignalTeardown() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    sigaction(sig, nullptr, &old);
    if (old.sa_handler != SIG_DFL) continue;  // someone else handles it
    struct sigaction sa {};
    sa.sa_handler = TeardownOnSignal;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

// ---- entering a namespace from a thread ----
Status EnterNamespace(const std::string& ns) {
  const std::string path = "/run/netns/" + ns;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::Internal("testbed: cannot open " + path + ": " + std::strerror(errno));
  const int rc = setns(fd, CLONE_NEWNET);
  const int err = errno;
  close(fd);
  if (rc != 0) return Status::Internal("testbed: setns " + ns + ": " + std::strerror(err));
  return Status::Ok();
}

std::string Octets(int a, int b, int c, int d) {
  return std::to_string(a) + "." + std::to_string(b) + "." + std::to_string(c) + "." +
         std::to_string(d);
}

std::string BurstFor(double bits_per_second) {
  // 10 ms of traffic, at least 128 KiB so a 64 KiB GSO segment always fits.
  const double bytes = std::max(bits_per_second / 8 / 100, 128.0 * 1024);
  return std::to_string(static_cast<long long>(bytes));
}

int g_serial = 0;

}  // namespace

Result<double> ParseRate(const std::string& rate) {
  size_t used = 0;
  double value = 0;
  try {
    value = std::stod(rate, &used);
  } catch (...) {
    used = 0;
  }
  const std::string unit = used == 0 ? "" : rate.substr(used);
  double scale = 0;
  if (unit == "bit") scale = 1;
  if (unit == "kbit") scale = 1e3;
  if (unit == "mbit") scale = 1e6;
  if (unit == "gbit") scale = 1e9;
  if (used == 0 || scale == 0 || !(value > 0)) {
    return Status::Invalid("rate '" + rate + "' is not a number with bit, kbit, mbit or gbit");
  }
  return value * scale;
}

Result<std::unique_ptr<Testbed>> Testbed::Create(const TestbedOptions& options) {
  if (options.hosts < 1) return Status::Invalid("testbed: needs at least one host");
  if (!options.groups.empty() && static_cast<int>(options.groups.size()) != options.hosts) {
    return Status::Invalid("testbed: " + std::to_string(options.groups.size()) +
                           " groups given for " + std::to_string(options.hosts) + " hosts");
  }
  for (const auto* rate : {&options.host_rate, &options.uplink_rate}) {
    if (!rate->empty()) GV_RETURN_IF_ERROR(ParseRate(*rate).status());
  }
  if (geteuid() != 0) return Status::Unavailable("testbed: network namespaces need root");
  // A namespace of our own tells whether this machine can make them at all.
  SweepStale();
  std::unique_ptr<Testbed> tb(new Testbed());
  tb->prefix_ = "gvtb-" + std::to_string(getpid()) + "-" + std::to_string(g_serial++);
  g_live.push_back(&tb->made_);
  InstallSignalTeardown();
  const std::string probe = tb->prefix_ + "-g0";
  tb->made_.push_back(probe);
  RebuildTeardown();
  if (Status st = Run({"ip", "netns", "add", probe}); !st.ok()) {
    tb->made_.clear();
    tb->Destroy();
    return Status::Unavailable("testbed: cannot create network namespaces here (" +
                               st.message() + ")");
  }
  if (Status st = tb->Build(options); !st.ok()) {
    tb->Destroy();
    return st;
  }
  return tb;
}

Result<std::unique_ptr<Testbed>> Testbed::CreateFor(const topology::Topology& topology,
                                                    TestbedOptions options) {
  options.hosts = topology.num_nodes();
  options.groups.clear();
  bool any = false;
  for (const auto& n : topology.nodes()) {
    options.groups.push_back(n.group);
    any = any || !n.group.empty();
  }
  if (!any) options.groups.clear();
  return Create(options);
}

std::string Testbed::GatewayNs(int group) const { return prefix_ + "-g" + std::to_string(group); }

Status Testbed::Build(const TestbedOptions& options) {
  // Groups in order of first appearance.
  std::vector<int> index_in_group;
  for (int i = 0; i < options.hosts; ++i) {
    const std::string g = options.groups.empty() ? "" : options.groups[static_cast<size_t>(i)];
    auto it = std::find(group_names_.begin(), group_names_.end(), g);
    if (it == group_names_.end()) {
      group_names_.push_back(g);
      it = group_names_.end() - 1;
    }
    Host h;
    h.group = static_cast<int>(it - group_names_.begin());
    int j = 0;
    for (const auto& other : hosts_) j += other.group == h.group;
    if (j >= 250 || h.group >= 250) return Status::Invalid("testbed: at most 250 hosts per group and 250 groups");
    h.ns = prefix_ + "-h" + std::to_string(i);
    h.addr = Octets(10, 99, h.group, j + 1);
    h.port = "h" + std::to_string(i);
    hosts_.push_back(std::move(h));
  }
  group_side_.assign(group_names_.size(), 0);
  const bool routed = group_names_.size() > 1;
  auto add_ns = [&](const std::string& ns) -> Status {
    if (std::find(made_.begin(), made_.end(), ns) == made_.end()) {
      made_.push_back(ns);
      RebuildTeardown();
      GV_RETURN_IF_ERROR(Run({"ip", "netns", "add", ns}));
    }
    return Run({"ip", "-n", ns, "link", "set", "lo", "up"});
  };
  auto bridge = [&](const std::string& ns, const std::string& name) -> Status {
    GV_RETURN_IF_ERROR(Run({"ip", "-n", ns, "link", "add", name, "type", "bridge"}));
    return Run({"ip", "-n", ns, "link", "set", name, "up"});
  };
  if (routed) {
    GV_RETURN_IF_ERROR(add_ns(CoreNs()));
    GV_RETURN_IF_ERROR(bridge(CoreNs(), "br0"));
  }
  for (int g = 0; g < groups(); ++g) {
    const std::string gw = GatewayNs(g);
    GV_RETURN_IF_ERROR(add_ns(gw));
    GV_RETURN_IF_ERROR(bridge(gw, "br0"));
    if (!routed) continue;
    GV_RETURN_IF_ERROR(Run({"ip", "-n", gw, "addr", "add", Octets(10, 99, g, 254) + "/24", "dev", "br0"}));
    GV_RETURN_IF_ERROR(Run({"ip", "netns", "exec", gw, "sh", "-c",
                            "echo 1 > /proc/sys/net/ipv4/ip_forward"}));
    const std::string core_port = "g" + std::to_string(g);
    GV_RETURN_IF_ERROR(Run({"ip", "-n", gw, "link", "add", "uplink", "type", "veth", "peer", "name",
                            core_port, "netns", CoreNs()}));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", gw, "addr", "add", Octets(10, 98, 0, g + 1) + "/24", "dev", "uplink"}));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", gw, "link", "set", "uplink", "up"}));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", CoreNs(), "link", "set", core_port, "master", "br0"}));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", CoreNs(), "link", "set", core_port, "up"}));
    GV_RETURN_IF_ERROR(SetUplinkRate(g, options.uplink_rate));
  }
  if (routed) {
    for (int g = 0; g < groups(); ++g) {
      for (int h = 0; h < groups(); ++h) {
        if (h == g) continue;
        GV_RETURN_IF_ERROR(Run({"ip", "-n", GatewayNs(g), "route", "add",
                                Octets(10, 99, h, 0) + "/24", "via", Octets(10, 98, 0, h + 1)}));
      }
    }
  }
  for (int i = 0; i < hosts(); ++i) {
    const Host& h = hosts_[static_cast<size_t>(i)];
    const std::string gw = GatewayNs(h.group);
    GV_RETURN_IF_ERROR(add_ns(h.ns));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", h.ns, "link", "add", "eth0", "type", "veth", "peer", "name",
                            h.port, "netns", gw}));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", h.ns, "addr", "add", h.addr + "/24", "dev", "eth0"}));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", h.ns, "link", "set", "eth0", "up"}));
    GV_RETURN_IF_ERROR(AttachPort(h));
    GV_RETURN_IF_ERROR(Run({"ip", "-n", gw, "link", "set", h.port, "up"}));
    if (routed) {
      GV_RETURN_IF_ERROR(Run({"ip", "-n", h.ns, "route", "add", "default", "via",
                              Octets(10, 99, h.group, 254)}));
    }
    GV_RETURN_IF_ERROR(SetHostRate(i, options.host_rate));
  }
  return Status::Ok();
}

Testbed::~Testbed() { Destroy(); }

void Testbed::Destroy() {
  if (destroyed_) return;
  destroyed_ = true;
  // Hosts first (their processes), then gateways and the core.
  for (auto it = made_.rbegin(); it != made_.rend(); ++it) {
    CommandResult pids = RunCommand({"ip", "netns", "pids", *it});
    size_t pos = 0;
    while (pos < pids.output.size()) {
      const size_t end = pids.output.find('\n', pos);
      const std::string line = pids.output.substr(pos, end - pos);
      if (!line.empty() && std::all_of(line.begin(), line.end(), ::isdigit)) {
        kill(static_cast<pid_t>(std::stol(line)), SIGKILL);
      }
      if (end == std::string::npos) break;
      pos = end + 1;
    }
    RunCommand({"ip", "netns", "del", *it});
  }
  made_.clear();
  std::erase(g_live, &made_);
  RebuildTeardown();
}

const std::string& Testbed::Namespace(int host) const { return hosts_.at(static_cast<size_t>(host)).ns; }
const std::string& Testbed::Address(int host) const { return hosts_.at(static_cast<size_t>(host)).addr; }
int Testbed::GroupOf(int host) const { return hosts_.at(static_cast<size_t>(host)).group; }
std::vector<std::string> Testbed::Namespaces() const { return made_; }

std::vector<std::string> Testbed::Wrap(int host, std::vector<std::string> argv) const {
  std::vector<std::string> out = {"ip", "netns", "exec", Namespace(host)};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::string Testbed::TopologyDot(const topology::Topology& topology, int port) const {
  topology::Topology t = topology;
  for (int i = 0; i < t.num_nodes() && i < hosts(); ++i) {
    t.mutable_node(i).addr = Address(i) + ":" + std::to_string(port);
  }
  topology::DotWriteOptions o;
  o.graph_name = "testbed";
  return topology::WriteDot(t, o);
}

Status Testbed::AttachPort(const Host& h) {
  const std::string bridge = h.side == 0 ? "br0" : "br1";
  return Run({"ip", "-n", GatewayNs(h.group), "link", "set", h.port, "master", bridge});
}

Status Testbed::Shape(const std::string& ns, const std::string& dev, const std::string& rate) {
  if (rate.empty()) {
    CommandResult r = RunCommand({"tc", "-n", ns, "qdisc", "del", "dev", dev, "root"});
    (void)r;  // none there: nothing to remove
    return Status::Ok();
  }
  GV_ASSIGN_OR_RETURN(const double bps, ParseRate(rate));
  return Run({"tc", "-n", ns, "qdisc", "replace", "dev", dev, "root", "tbf", "rate", rate,
              "burst", BurstFor(bps), "latency", "100ms"});
}

Status Testbed::SetHostRate(int host, const std::string& rate) {
  const Host& h = hosts_.at(static_cast<size_t>(host));
  GV_RETURN_IF_ERROR(Shape(h.ns, "eth0", rate));
  return Shape(GatewayNs(h.group), h.port, rate);
}

Status Testbed::SetUplinkRate(int group, const std::string& rate) {
  if (groups() < 2) return Status::Invalid("testbed: one group has no uplink to shape");
  GV_RETURN_IF_ERROR(Shape(GatewayNs(group), "uplink", rate));
  return Shape(CoreNs(), "g" + std::to_string(group), rate);
}

Status Testbed::Cut(int host) {
  Host& h = hosts_.at(static_cast<size_t>(host));
  if (h.cut) return Status::Ok();
  GV_RETURN_IF_ERROR(Run({"ip", "-n", GatewayNs(h.group), "link", "set", h.port, "nomaster"}));
  h.cut = true;
  return Status::Ok();
}

Status Testbed::Restore(int host) {
  Host& h = hosts_.at(static_cast<size_t>(host));
  if (!h.cut) return Status::Ok();
  GV_RETURN_IF_ERROR(AttachPort(h));
  h.cut = false;
  return Status::Ok();
}

Status Testbed::Partition(const std::vector<int>& side) {
  GV_RETURN_IF_ERROR(Heal());
  std::set<int> in(side.begin(), side.end());
  for (int i : in) {
    if (i < 0 || i >= hosts()) return Status::Invalid("testbed: no host " + std::to_string(i));
  }
  auto ensure_br1 = [&](const std::string& ns) -> Status {
    if (RunCommand({"ip", "-n", ns, "link", "show", "br1"}).status == 0) return Status::Ok();
    GV_RETURN_IF_ERROR(Run({"ip", "-n", ns, "link", "add", "br1", "type", "bridge"}));
    return Run({"ip", "-n", ns, "link", "set", "br1", "up"});
  };
  if (groups() == 1) {
    GV_RETURN_IF_ERROR(ensure_br1(GatewayNs(0)));
    for (int i : in) {
      Host& h = hosts_[static_cast<size_t>(i)];
      h.side = 1;
      if (!h.cut) GV_RETURN_IF_ERROR(AttachPort(h));
    }
    return Status::Ok();
  }
  // Several groups: the side must be whole groups; their uplinks move to a second bridge.
  std::set<int> side_groups;
  for (int i : in) side_groups.insert(GroupOf(i));
  for (int i = 0; i < hosts(); ++i) {
    if (side_groups.count(GroupOf(i)) != 0 && in.count(i) == 0) {
      return Status::Invalid("testbed: with groups a partition side must be whole groups (host " +
                             std::to_string(i) + " of group '" + group_names_[GroupOf(i)] +
                             "' is missing)");
    }
  }
  GV_RETURN_IF_ERROR(ensure_br1(CoreNs()));
  for (int g : side_groups) {
    GV_RETURN_IF_ERROR(Run({"ip", "-n", CoreNs(), "link", "set", "g" + std::to_string(g), "master", "br1"}));
    group_side_[static_cast<size_t>(g)] = 1;
  }
  return Status::Ok();
}

Status Testbed::Heal() {
  for (auto& h : hosts_) {
    if (h.side == 0) continue;
    h.side = 0;
    if (!h.cut) GV_RETURN_IF_ERROR(AttachPort(h));
  }
  for (int g = 0; g < groups(); ++g) {
    if (group_side_[static_cast<size_t>(g)] == 0) continue;
    GV_RETURN_IF_ERROR(Run({"ip", "-n", CoreNs(), "link", "set", "g" + std::to_string(g), "master", "br0"}));
    group_side_[static_cast<size_t>(g)] = 0;
  }
  return Status::Ok();
}

Result<double> Testbed::MeasureMbit(int from, int to, size_t bytes) const {
  if (from == to) return Status::Invalid("testbed: a transfer needs two hosts");
  const std::string to_ns = Namespace(to), from_ns = Namespace(from), to_addr = Address(to);
  std::promise<int> port_promise;
  auto port_future = port_promise.get_future();
  auto receiver = std::async(std::launch::async, [&]() -> Result<double> {
    bool port_set = false;
    auto fail = [&](const std::string& what) -> Result<double> {
      if (!port_set) port_promise.set_value(-1);
      return Status::Internal("testbed: receiver " + what + ": " + std::strerror(errno));
    };
    if (Status st = EnterNamespace(to_ns); !st.ok()) {
      port_promise.set_value(-1);
      return st;
    }
    const int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, to_addr.c_str(), &sa.sin_addr);
    socklen_t len = sizeof sa;
    if (ls < 0 || bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || listen(ls, 1) != 0 ||
        getsockname(ls, reinterpret_cast<sockaddr*>(&sa), &len) != 0) {
      if (ls >= 0) close(ls);
      return fail("listen");
    }
    port_promise.set_value(ntohs(sa.sin_port));
    port_set = true;
    pollfd pfd{ls, POLLIN, 0};
    if (poll(&pfd, 1, 20000) != 1) {
      close(ls);
      return fail("no connection within 20 s");
    }
    const int s = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    close(ls);
    if (s < 0) return fail("accept");
    std::vector<char> buf(1 << 16);
    size_t got = 0;
    std::chrono::steady_clock::time_point first{}, last{};
    for (;;) {
      pollfd p{s, POLLIN, 0};
      if (poll(&p, 1, 30000) != 1) break;
      const ssize_t n = read(s, buf.data(), buf.size());
      if (n <= 0) break;
      last = std::chrono::steady_clock::now();
      if (got == 0) first = last;
      got += static_cast<size_t>(n);
    }
    close(s);
    const double seconds = std::chrono::duration<double>(last - first).count();
    if (got < bytes || seconds <= 0) {
      return Status::Internal("testbed: received " + std::to_string(got) + " of " +
                              std::to_string(bytes) + " bytes");
    }
    return 8.0 * static_cast<double>(got) / seconds / 1e6;
  });
  auto sender = std::async(std::launch::async, [&]() -> Status {
    const int port = port_future.get();
    if (port < 0) return Status::Ok();  // the receiver reports why
    GV_RETURN_IF_ERROR(EnterNamespace(from_ns));
    const int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    inet_pton(AF_INET, to_addr.c_str(), &sa.sin_addr);
    timeval tv{30, 0};
    setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (s < 0 || connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      const std::string err = std::strerror(errno);
      if (s >= 0) close(s);
      return Status::Internal("testbed: sender cannot connect to " + to_addr + ": " + err);
    }
    std::vector<char> buf(1 << 16, 'x');
    size_t sent = 0;
    while (sent < bytes) {
      const ssize_t n = write(s, buf.data(), std::min(buf.size(), bytes - sent));
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    close(s);
    return Status::Ok();
  });
  Status sent = sender.get();
  Result<double> rate = receiver.get();
  if (!sent.ok()) return sent;
  return rate;
}

bool Testbed::CanConnect(int from, int to, int timeout_ms) const {
  if (from == to) return true;
  const std::string to_ns = Namespace(to), from_ns = Namespace(from), to_addr = Address(to);
  auto open_socket = [&](const std::string& ns) {
    // A thread of its own enters the namespace; the socket stays in it afterwards.
    return std::async(std::launch::async, [&ns] {
             return EnterNamespace(ns).ok() ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
           }).get();
  };
  const int ls = open_socket(to_ns);
  const int s = open_socket(from_ns);
  bool ok = false;
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  inet_pton(AF_INET, to_addr.c_str(), &sa.sin_addr);
  socklen_t len = sizeof sa;
  if (ls >= 0 && s >= 0 && bind(ls, reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0 &&
      listen(ls, 1) == 0 && getsockname(ls, reinterpret_cast<sockaddr*>(&sa), &len) == 0) {
    fcntl(s, F_SETFL, O_NONBLOCK);
    const int rc = connect(s, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{s, POLLOUT, 0};
      int err = 0;
      socklen_t elen = sizeof err;
      ok = poll(&p, 1, timeout_ms) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
           err == 0;
    }
  }
  if (s >= 0) close(s);
  if (ls >= 0) close(ls);
  return ok;
}

std::vector<std::string> ListNamespaces(const std::string& prefix) {
  std::vector<std::string> out;
  DIR* d = opendir("/run/netns");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

int SweepStale() {
  int removed = 0;
  for (const auto& name : ListNamespaces("gvtb-")) {
    const size_t dash = name.find('-', 5);
    const std::string pid_text = name.substr(5, dash == std::string::npos ? std::string::npos : dash - 5);
    if (pid_text.empty() || !std::all_of(pid_text.begin(), pid_text.end(), ::isdigit)) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH) continue;
    RunCommand({"sh", "-c", "for p in $(ip netns pids " + name + "); do kill -9 $p; done"});
    if (RunCommand({"ip", "netns", "del", name}).status == 0) ++removed;
  }
  return removed;
}

}  // namespace grapevine::testbed
