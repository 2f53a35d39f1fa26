// The consensus step size γ of CHOCO-SGD (ALGORITHMS.md §5), tuned the way the paper's
// code does: simulate CHOCO-gossip without gradients on random vectors, with the
// swarm's real mixing matrix (Metropolis weights on the live graph) and the real codec,
// for every γ of logspace(−3, 0, 20), and keep the γ with the smallest final consensus
// error. Deterministic in (edges, codec, seed): every agent of a swarm that sees the same
// graph picks the same γ.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/algorithms/option.h"

#include "merge/compress.h"
#include "proto/messages.h"

namespace grapevine::agent::algorithms {

struct GammaTuning {
  double gamma = 1.0;
  double error = 0.0;  // final Σ‖x_i − x̄‖² / initial, at that γ
  int nodes = 0;
  int dims = 0;
};

// Cost: 20 γ × `iterations` × n agents × min(1024, max(256, 8192/n)) entries through
// the codec (8 agents, sign: ~0.3 s).
// `edges`: the undirected live graph (ids need not be dense); `self` is included
// even when it has no edge. No edge: γ = 1 (nothing to agree with).
GammaTuning TuneChocoGamma(const std::vector<proto::Edge>& edges, proto::NodeId self,
                           const merge::CodecSpec& codec, uint64_t seed, int iterations = 150);

// Final relative consensus error of `iterations` CHOCO-gossip steps at `gamma` (∞ when
// it diverges). Exposed for the tests.
double ChocoGossipError(const std::vector<proto::Edge>& edges, proto::NodeId self,
                        const merge::CodecSpec& codec, double gamma, uint64_t seed,
                        int iterations, int dims);

// `--choco-gamma` as an option validator reports it ("" when in [0, 1]).
std::string CheckGammaOption(const std::string& value);
// The option, shared by choco and efficient-adam (between group leaders).
inline constexpr OptionSpec kChocoGammaOption = {
    "choco-gamma",
    "consensus step size in (0, 1]; 0 = tune at start on the live graph (efficient-adam: on "
    "the graph of the group leaders)",
    "0", "FLOAT", CheckGammaOption};

}  // namespace grapevine::agent::algorithms
