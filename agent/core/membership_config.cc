#include "agent/core/membership_config.h"

#include <algorithm>
#include <cmath>

namespace grapevine::agent::core {

MembershipConfig MembershipConfig::Lan() { return MembershipConfig{}; }

MembershipConfig MembershipConfig::Fast() {
  using std::chrono::milliseconds;
  MembershipConfig c;
  c.probe_interval = milliseconds(100);
  c.probe_timeout = milliseconds(50);
  c.suspicion_min = milliseconds(200);
  c.suspicion_max = milliseconds(6000);
  c.gossip_interval = milliseconds(20);
  c.push_pull_interval = milliseconds(1000);
  c.reconnect_interval = milliseconds(1000);
  c.repair_grace = milliseconds(300);
  return c;
}

Duration SuspicionTimeout(const MembershipConfig& config, std::size_t n) {
  const double scale = config.suspicion_mult * std::log10(static_cast<double>(n) + 1.0);
  const auto raw = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double, Duration::period>(scale * config.probe_interval.count()));
  return std::clamp(raw, config.suspicion_min, config.suspicion_max);
}

int RetransmitLimit(const MembershipConfig& config, std::size_t n) {
  const double log_n = std::ceil(std::log10(static_cast<double>(n) + 1.0));
  return std::max(1, config.retransmit_mult * static_cast<int>(log_n));
}

}  // namespace grapevine::agent::core
