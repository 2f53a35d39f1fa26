#include "topology/addr.h"

#include <cctype>

#include "topology/number.h"

namespace grapevine::topology {

bool IsAutoAddr(std::string_view addr) { return addr.empty() || addr == "auto"; }

Result<HostPort> ParseAddr(std::string_view addr) {
  std::string quoted(1, '\'');  // built by append: GCC 12 -Wrestrict misfires on "'" + s
  quoted.append(addr).append(1, '\'');
  size_t colon = addr.rfind(':');
  if (colon == std::string_view::npos) return Status::Invalid(quoted + ": missing ':port'");
  std::string_view host = addr.substr(0, colon);
  std::string_view port_text = addr.substr(colon + 1);
  HostPort result;
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) {
      return Status::Invalid(quoted + ": unbalanced '[' in IPv6 host");
    }
    host = host.substr(1, host.size() - 2);
    for (char c : host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') {
        return Status::Invalid(quoted + ": bad character in IPv6 address");
      }
    }
  } else {
    if (host.empty()) return Status::Invalid(quoted + ": empty host");
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
        return Status::Invalid(quoted + ": bad character '" + std::string(1, c) +
                               "' in host (IPv6 needs [brackets])");
      }
    }
  }
  std::optional<long long> port = ParseInteger(port_text, 1, 65535);
  if (!port) {
    return Status::Invalid(quoted + ": port '" + std::string(port_text) +
                           "' is not a number in 1..65535");
  }
  result.host = std::string(host);
  result.port = static_cast<int>(*port);
  return result;
}

}  // namespace grapevine::topology
