// Node addresses in topology files: "host:port", host a name or IPv4 address or a
// bracketed IPv6 address ("[::1]:47000"), port 1..65535.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace grapevine::topology {

struct HostPort {
  std::string host;  // without brackets
  int port = 0;
};

// A node whose address is left to `grapevine agent --base-port` (docs/cluster.md): no
// addr attribute, or addr="auto".
bool IsAutoAddr(std::string_view addr);

// InvalidInput with the reason ("missing ':port'", "port 70000 out of range", ...).
Result<HostPort> ParseAddr(std::string_view addr);

}  // namespace grapevine::topology
