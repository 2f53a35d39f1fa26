// Options of `grapevine launch` (tools/launch_cmd.cc) and the pieces that turn flags into
// a plan: the demo's defaults, the --compare list, the one-line description of a run.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/node_options.h"
#include "base/status.h"
#include "topology/generators.h"

namespace grapevine::tools {

struct LaunchOptions {
  std::string topology_path;  // empty: built-in ring
  std::string out_dir;
  int default_nodes = 8;
  int base_port = topology::kDefaultBasePort;
  int timeout_s = 0;    // 0: none; per run
  std::string compare;  // --compare: comma-separated algorithms; empty: one run
  double target_accuracy = 0.8;
  // Checkpoints: each agent keeps its own in CHECKPOINT_DIR/node-<name>; with only
  // --checkpoint-every, CHECKPOINT_DIR is OUT/checkpoints. Empty and every 0: none.
  std::string checkpoint_dir;
  agent::NodeOptions agent;
};

// The demo's settings: what `grapevine launch` without a TOPOLOGY uses for every
// shared flag the user did not give (README "Quick start", docs/report.md). With a
// topology file the agent's own defaults (agent/node_options.h) apply.
// Measured on 2 shared cores: 0.868 mean test accuracy in 38 s (docs/report.md).
// Non-IID shards drift apart during local steps, so the demo merges more often (50 steps
// a round) and lets the learning rate decay (cosine) instead of 30 x 100 at a constant
// rate (0.77 at the end, swinging by +-0.03 from round to round).
inline constexpr std::pair<const char*, const char*> kDemoDefaults[] = {
    {"--partition", "dirichlet:0.5"},
    {"--rounds", "80"},
    {"--local-steps", "50"},
    {"--schedule", "cosine"},
};

// Sets the shared flag `flag` (tools/node_flags.h) of `o` from its text form.
// REQUIRES: `value` parses as the flag's type (the demo defaults above do).
void SetSharedFlag(agent::NodeOptions& o, const std::string& flag, const std::string& value);

// "dimat, wa" -> {"dimat", "wa"}; Invalid for an empty item, an unknown algorithm (the
// message names the allowed set, as `--algo` does) or a repeated one.
Result<std::vector<std::string>> ParseAlgoList(const std::string& list);

// The agents' setting as shown at start and stored in compare.json.
std::string SettingLine(const agent::NodeOptions& a);

}  // namespace grapevine::tools
