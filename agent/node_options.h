// NodeOptions: everything one agent is started with. Filled by `grapevine agent`
// (flags, TOML config) and by `grapevine launch` for each child; defaults here are the
// documented defaults (docs/agent.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "agent/algorithms/registry.h"
#include "learn/trainer.h"

namespace grapevine::agent {

struct NodeOptions {
  // ---- identity: either a topology file + node name, or a seed to join through ----
  std::string topology_path;
  std::string node;         // node name in the topology file
  std::string join_addr;    // host:port of any member
  std::string listen_addr;  // joiners: where to listen (host:port; port 0 = any)

  // ---- learning (same meaning as in `grapevine train`) ----
  std::string data = "fashion-mnist";
  std::string model = "mlp";  // = mlp:<features>-256-128-<classes>
  learn::TrainingRecipe recipe;  // --optimizer --lr --momentum --nesterov --weight-decay
                                 // --batch --schedule --order, checked by TrainerOptionsFrom
  int threads = 1;
  uint64_t seed = 1;
  std::string partition = "iid";
  // Joiners: which shard of the data to train on, "I/N"; empty = assigned id / id+1.
  std::string shard;
  // Straggler emulation: each step's compute takes this many times as long (the agent
  // sleeps the difference). 0 = the node's slowdown attribute in the topology file
  // (1 when it has none, and for joiners).
  double slowdown = 0;

  // ---- rounds ----
  std::string algo{algorithms::kDefaultAlgo};  // a registry row (agent/algorithms/registry.h)
  // shared | per-node; empty = the algorithm's default (its registry row).
  std::string init;
  // The algorithms' own options by name without dashes ("merge-every" → "4"), as
  // declared in their registry rows; missing ones take the declared default. Checked
  // by the declared validators when the Node starts.
  std::map<std::string, std::string> algo_options;
  int rounds = 30;
  int local_steps = 100;       // optimizer steps per round
  std::string sampling = "fixed";  // --sampling: examples per step (learn/sampling.h)
  int64_t global_batch = 0;        // --global-batch (ugs, lds; 0 = agents × --batch)
  int pretrain_steps = 0;      // local steps alone before round 0 (DIMAT's pre-training)
  int eval_every = 1;          // rounds between test evaluations
  int64_t eval_samples = 0;    // test examples per evaluation; 0 = the whole test set
  bool sync = false;           // wait for every live neighbour's same round
  int staleness = 4;           // async: skip neighbour models older than this many rounds
  int deadline_max_ms = 2000;  // async: never wait longer than this for neighbours
  int linger_ms = 1500;        // after the last round keep serving models this long

  // ---- membership ----
  int join_k = 2;
  int min_degree = 2;
  std::string membership_preset = "lan";  // lan | fast

  // ---- operations ----
  std::string metrics_path;  // JSONL, one line per round
  std::string secret_file;
  uint32_t max_frame_bytes = 256u << 20;
  std::string log_level = "info";

  // ---- checkpoints (docs/checkpoints.md) ----
  // --checkpoint-dir: where this agent keeps its checkpoints; the same command again
  // resumes from the newest valid one. Empty: none. --topology agents only.
  std::string checkpoint_dir;
  int checkpoint_every = 0;  // rounds between checkpoints; 0 = 5 when a dir is given
};

}  // namespace grapevine::agent
