// Timers and limits of the membership protocol (SWIM with memberlist's refinements).
//
// One plain struct with commented defaults (the defaults are the LAN preset) plus
// named presets, and the two size-dependent quantities as pure functions so they can
// be table-tested: the suspicion timeout and the broadcast retransmit limit both grow
// with log10 of the cluster size, as in hashicorp/memberlist.
//
// Value type; no thread-safety concerns.
#pragma once

#include <chrono>
#include <cstddef>

#include "agent/core/clock.h"

namespace grapevine::agent::core {

struct MembershipConfig {
  // SWIM protocol period: every interval this node pings one member (round-robin over
  // a shuffled list of all live members, not only its graph neighbours).
  Duration probe_interval = std::chrono::seconds(1);
  // Without a direct Ack after this long, ask `indirect_checks` other members to ping
  // the target for us. Must be < probe_interval; a target still silent at the end of
  // the interval becomes suspect.
  Duration probe_timeout = std::chrono::milliseconds(500);
  int indirect_checks = 3;

  // Suspicion timeout = suspicion_mult x log10(n + 1) x probe_interval, clamped to
  // [suspicion_min, suspicion_max] (see SuspicionTimeout()).
  double suspicion_mult = 4.0;
  Duration suspicion_min = std::chrono::seconds(2);
  Duration suspicion_max = std::chrono::seconds(60);

  // Each broadcast is sent at most retransmit_mult x ceil(log10(n + 1)) times
  // (see RetransmitLimit()).
  int retransmit_mult = 4;
  // Every gossip_interval, pending broadcasts are pushed to gossip_nodes random live
  // members in a MembershipUpdate (besides riding on every outgoing envelope).
  Duration gossip_interval = std::chrono::milliseconds(200);
  int gossip_nodes = 3;
  // Most member records piggybacked on one envelope / carried by one gossip delta.
  std::size_t max_gossip_per_message = 16;
  // Most edges carried by one gossip delta.
  std::size_t max_edges_per_message = 32;

  // Full-state push-pull anti-entropy with one random live member. memberlist uses
  // 30 s; our swarms are tens of nodes (a full state is ~1 KB) and edges, unlike
  // member records, have no refutation path to repair a missed rumour, so 10 s.
  Duration push_pull_interval = std::chrono::seconds(10);
  // Full-state push-pull with one random *dead* member, so a healed partition or a
  // falsely-declared node hears about it and refutes (Serf's reconnect).
  Duration reconnect_interval = std::chrono::seconds(10);

  // Join: attach a new node to this many least-loaded alive members.
  int join_attach_k = 2;
  // Repair: a node whose live degree stays below min(min_degree, its degree in the
  // full edge set) for repair_grace adds edges to least-loaded alive non-neighbours.
  int min_degree = 2;
  // Soft upper bound: join and repair avoid members at or above this live degree
  // while any other candidate exists.
  int max_degree = 8;
  // Degree repair waits this long (a "dead" neighbour may still refute: edges are
  // permanent), and the smallest-id live node bridges a disconnected live graph only
  // after it has been disconnected this long (degree repair usually fixes it first).
  Duration repair_grace = std::chrono::seconds(3);

  // Real loopback / LAN use (the defaults above).
  static MembershipConfig Lan();
  // Simulated clusters and tests: every timer 10x shorter than Lan(). Only ratios
  // matter under a manual clock.
  static MembershipConfig Fast();
};

// How long a suspect member has to refute before it is declared dead, for a
// cluster of n live members (n counts this node).
Duration SuspicionTimeout(const MembershipConfig& config, std::size_t n);

// How many times one broadcast is transmitted in a cluster of n live members.
// At least 1.
int RetransmitLimit(const MembershipConfig& config, std::size_t n);

}  // namespace grapevine::agent::core
