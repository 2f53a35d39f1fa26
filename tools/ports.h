// Local TCP ports for `grapevine launch` (issue 16): Linux's ephemeral range, whether an
// agent's listen address can be bound here, and who holds a port that cannot.
//
// Why: a port inside the ephemeral range (/proc/sys/net/ipv4/ip_local_port_range, usually
// 32768-60999) can be taken for a moment by any outgoing connection on the machine, so a
// swarm listening there fails now and then with "Address already in use". The built-in
// ring's default ports lie below that range; the launcher checks every agent's port
// before it starts the agent.
//
// The /proc parsers are pure functions over the file's text so they are unit-tested;
// the rest reads /proc and opens sockets. Thread-safety: none needed (no shared state).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace grapevine::tools {

struct PortRange {
  int first = 0;
  int last = 0;  // inclusive
  bool Overlaps(int a, int b) const { return a <= last && b >= first; }
};

// "32768\t60999\n" -> {32768, 60999}; Invalid when the text is not two ordered ports.
Result<PortRange> ParsePortRange(const std::string& text);
// The running kernel's ephemeral range; nullopt off Linux or when unreadable.
std::optional<PortRange> EphemeralPortRange();

// One row of /proc/net/tcp or /proc/net/tcp6.
struct TcpSocket {
  int local_port = 0;
  int state = 0;  // kernel TCP state; 0x0A = LISTEN
  uint64_t inode = 0;
  bool listening() const { return state == 0x0A; }
};

// The rows of a /proc/net/tcp{,6} text (the header line and malformed rows skipped).
std::vector<TcpSocket> ParseProcNetTcp(const std::string& text);

// A process with a socket open, from /proc/PID/fd.
struct PortHolder {
  pid_t pid = 0;
  std::string command;  // /proc/PID/cmdline, arguments joined by spaces
};

// Every socket on local port `port` (IPv4 and IPv6), with its holder where this user may
// see it.
struct PortUse {
  TcpSocket socket;
  std::optional<PortHolder> holder;
};
std::vector<PortUse> PortUses(int port);

// "listening socket of pid 123 (python3 -m http.server 30002)" for each use, joined
// by "; " — or "no socket on the port is visible" when /proc shows none.
std::string DescribePortUses(const std::vector<PortUse>& uses);

// Binds (SO_REUSEADDR, as the agent's acceptor does) and releases host:port. Ok when
// an agent could listen there now; Unavailable with the errno text otherwise
// (EADDRINUSE: "Address already in use"; EADDRNOTAVAIL: not an address of this machine).
// `in_use` is set when the failure is EADDRINUSE.
Status TryBind(const std::string& host, int port, bool* in_use);

// Waits until node `node`'s listen address `addr` ("host:port") can be bound, retrying
// every 100 ms for up to `patience` while only non-listening sockets (an outgoing
// connection, a closing one) hold the port. Invalid at once when a listening socket holds
// it or the address is not on this machine, Invalid after `patience` otherwise; the
// message names the node, the port and what holds it (pid and command where visible).
Status WaitUntilBindable(const std::string& node, const std::string& addr,
                         std::chrono::milliseconds patience);

// A warning when any of `ports` lies inside the ephemeral range (empty when none does
// or the range is unknown); `advice` ends it (what to choose instead).
std::string EphemeralOverlapWarning(const std::vector<int>& ports, const std::string& advice);

}  // namespace grapevine::tools
