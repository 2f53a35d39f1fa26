#include "tools/ports.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <sstream>
#include <thread>

#include "topology/addr.h"

namespace grapevine::tools {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

const char* StateName(int state) {
  switch (state) {
    case 0x01: return "connected";
    case 0x02: return "connecting";
    case 0x03: return "half-open";
    case 0x06: return "time-wait";
    case 0x08: return "close-wait";
    case 0x0A: return "listening";
    default: return "closing";
  }
}

// inode -> holder, for the inodes asked for, from every /proc/PID/fd this user may read.
std::map<uint64_t, PortHolder> HoldersOf(const std::vector<uint64_t>& inodes) {
  std::map<uint64_t, PortHolder> out;
  std::map<std::string, uint64_t> wanted;
  for (uint64_t inode : inodes) wanted["socket:[" + std::to_string(inode) + "]"] = inode;
  std::error_code ec;
  for (const auto& proc : fs::directory_iterator("/proc", ec)) {
    const std::string pid_text = proc.path().filename().string();
    if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    std::error_code fd_ec;
    for (const auto& fd : fs::directory_iterator(proc.path() / "fd", fd_ec)) {
      std::error_code link_ec;
      const auto target = fs::read_symlink(fd.path(), link_ec);
      if (link_ec) continue;
      auto it = wanted.find(target.string());
      if (it == wanted.end()) continue;
      std::string cmd = ReadAll(proc.path().string() + "/cmdline");
      for (char& c : cmd) c = c == '\0' ? ' ' : c;
      while (!cmd.empty() && cmd.back() == ' ') cmd.pop_back();
      out[it->second] = PortHolder{static_cast<pid_t>(std::stol(pid_text)), cmd};
    }
  }
  return out;
}

}  // namespace

Result<PortRange> ParsePortRange(const std::string& text) {
  std::istringstream in(text);
  PortRange r;
  if (!(in >> r.first >> r.last) || r.first < 1 || r.last > 65535 || r.first > r.last) {
    return Status::Invalid("not a port range: '" + text + "'");
  }
  return r;
}

std::optional<PortRange> EphemeralPortRange() {
  auto r = ParsePortRange(ReadAll("/proc/sys/net/ipv4/ip_local_port_range"));
  if (!r.ok()) return std::nullopt;
  return *r;
}

std::vector<TcpSocket> ParseProcNetTcp(const std::string& text) {
  std::vector<TcpSocket> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream row(line);
    std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
    if (!(row >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >>
          timeout >> inode)) {
      continue;
    }
    const size_t colon = local.rfind(':');
    if (slot.empty() || slot.back() != ':' || colon == std::string::npos) continue;
    try {
      TcpSocket s;
      s.local_port = std::stoi(local.substr(colon + 1), nullptr, 16);
      s.state = std::stoi(state, nullptr, 16);
      s.inode = std::stoull(inode);
      out.push_back(s);
    } catch (const std::exception&) {
      continue;  // the header line, or a row this parser does not understand
    }
  }
  return out;
}

std::vector<PortUse> PortUses(int port) {
  std::vector<PortUse> uses;
  std::vector<uint64_t> inodes;
  for (const char* file : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    for (const auto& s : ParseProcNetTcp(ReadAll(file))) {
      if (s.local_port != port) continue;
      uses.push_back(PortUse{s, std::nullopt});
      if (s.inode != 0) inodes.push_back(s.inode);
    }
  }
  if (inodes.empty()) return uses;
  const auto holders = HoldersOf(inodes);
  for (auto& u : uses) {
    auto it = holders.find(u.socket.inode);
    if (it != holders.end()) u.holder = it->second;
  }
  return uses;
}

std::string DescribePortUses(const std::vector<PortUse>& uses) {
  if (uses.empty()) return "no socket on the port is visible";
  std::string out;
  for (const auto& u : uses) {
    if (!out.empty()) out += "; ";
    out += std::string(StateName(u.socket.state)) + " socket ";
    if (u.holder) {
      out += "of pid " + std::to_string(u.holder->pid) + " (" + u.holder->command + ")";
    } else if (u.socket.inode == 0) {
      out += "owned by the kernel";
    } else {
      out += "of a process this user cannot see";
    }
  }
  return out;
}

Status TryBind(const std::string& host, int port, bool* in_use) {
  *in_use = false;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), port_text.c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  const int fd = socket(found->ai_family, SOCK_STREAM, 0);
  if (fd < 0) {
    freeaddrinfo(found);
    return Status::Unavailable(std::string("socket: ") + std::strerror(errno));
  }
  const int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  const int rc = bind(fd, found->ai_addr, found->ai_addrlen);
  const int err = errno;
  freeaddrinfo(found);
  close(fd);
  if (rc == 0) return Status::Ok();
  *in_use = err == EADDRINUSE;
  return Status::Unavailable(std::string(std::strerror(err)));
}

Status WaitUntilBindable(const std::string& node, const std::string& addr,
                         std::chrono::milliseconds patience) {
  auto hp = topology::ParseAddr(addr);
  if (!hp.ok()) return Status::Invalid("node '" + node + "': " + hp.status().message());
  const auto give_up = std::chrono::steady_clock::now() + patience;
  const std::string where = "node '" + node + "': cannot listen on " + addr;
  while (true) {
    bool in_use = false;
    Status s = TryBind(hp->host, hp->port, &in_use);
    if (s.ok()) return s;
    if (!in_use) return Status::Invalid(where + ": " + s.message());
    const auto uses = PortUses(hp->port);
    const bool listener = std::any_of(uses.begin(), uses.end(),
                                      [](const PortUse& u) { return u.socket.listening(); });
    if (listener || std::chrono::steady_clock::now() >= give_up) {
      return Status::Invalid(where + ": port " + std::to_string(hp->port) + " is in use (" +
                             DescribePortUses(uses) + ")" +
                             (listener ? "" : " for longer than " +
                                                  std::to_string(patience.count()) + " ms"));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string EphemeralOverlapWarning(const std::vector<int>& ports, const std::string& advice) {
  const auto range = EphemeralPortRange();
  if (!range || ports.empty()) return "";
  const auto [lo, hi] = std::minmax_element(ports.begin(), ports.end());
  if (!range->Overlaps(*lo, *hi)) return "";
  return "ports " + std::to_string(*lo) + "-" + std::to_string(*hi) +
         " overlap this machine's ephemeral port range " + std::to_string(range->first) + "-" +
         std::to_string(range->last) +
         " (/proc/sys/net/ipv4/ip_local_port_range): any outgoing connection may hold one of "
         "them for a moment; " + advice;
}

}  // namespace grapevine::tools
