// The agent's training and swarm flags, declared once and shared by `grapevine agent`
// (parses them) and `grapevine launch` (parses them too, then passes them on to each
// child agent). One table, so the two commands cannot drift apart; the one place agent
// flags are declared. Flags with a table-backed set of values take their help and check
// from tools/flag_sets.h.
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

#include "agent/node_options.h"
#include "base/status.h"
#include "tools/flag_sets.h"

namespace grapevine::tools {

// Calls f(flag, member, help) for every flag both commands share (not identity flags).
// The algorithms' own options are not listed here: AddSharedFlags registers them from
// their declarations in agent/algorithms/registry.h.
template <typename Options, typename F>
void ForEachSharedFlag(Options& o, F&& f) {
  f("--data", o.data, "fashion-mnist | idx:DIR | csv:FILE[,TEST] | synthetic[:N[:D[:C]]]");
  f("--model", o.model,
    "model spec: mlp (= mlp:<features>-256-128-<classes>), mlp:784-256-128-10, "
    "cnn:c32-p-c64-p-d128 (docs/learn.md)");
  f("--optimizer", o.recipe.optimizer, FlagSet::Optimizer().help().c_str());
  f("--lr", o.recipe.lr, "learning rate");
  f("--momentum", o.recipe.momentum, "SGD momentum");
  f("--nesterov", o.recipe.nesterov, "Nesterov momentum (SGD)");
  f("--weight-decay", o.recipe.weight_decay, "L2 weight decay");
  f("--clip-grad-norm", o.recipe.clip_grad_norm, "clip each step's gradient to this L2 norm (0 = off)");
  f("--batch", o.recipe.batch, "minibatch size");
  f("--order", o.recipe.order, FlagSet::Order(learn::OrderSite::kAgent).help().c_str());
  f("--schedule", o.recipe.schedule, FlagSet::Schedule().help().c_str());
  f("--threads", o.threads, "Eigen threads for local training");
  f("--seed", o.seed, "seed for init, partition, order and peer choices");
  f("--partition", o.partition, FlagSet::Partition().help().c_str());
  f("--algo", o.algo, FlagSet::Algo().help().c_str());
  f("--init", o.init,
    "shared (one initial model) | per-node (each node its own seed); default per algorithm");
  f("--rounds", o.rounds, "rounds to train (each = --local-steps optimizer steps + one merge)");
  f("--local-steps", o.local_steps, "optimizer steps per round");
  f("--sampling", o.sampling, FlagSet::Sampling().help().c_str());
  f("--global-batch", o.global_batch,
    "ugs, lds: examples per step over the whole swarm (0 = agents x --batch)");
  f("--pretrain-steps", o.pretrain_steps,
    "local steps alone before the first round (the DIMAT paper pre-trains each agent)");
  f("--eval-every", o.eval_every, "rounds between test evaluations");
  f("--eval-samples", o.eval_samples, "test examples per evaluation (0 = whole test set)");
  f("--sync", o.sync, "wait for every live neighbour's model of the same round");
  f("--staleness", o.staleness, "async: merge neighbour models at most this many rounds old");
  f("--deadline-max-ms", o.deadline_max_ms, "async: longest wait for neighbours per round");
  f("--linger-ms", o.linger_ms, "keep serving this long after the last round");
  f("--join-k", o.join_k, "a joiner is attached to this many least-loaded members");
  f("--min-degree", o.min_degree, "repair: reconnect when live degree falls below this");
  f("--membership", o.membership_preset, "failure-detector timers: lan | fast");
  f("--secret-file", o.secret_file, "shared secret: HMAC authentication of every connection");
  f("--max-frame-bytes", o.max_frame_bytes, "largest frame accepted from a peer");
  f("--log-level", o.log_level, "trace | debug | info | warn | error");
  f("--checkpoint-every", o.checkpoint_every,
    "rounds between checkpoints (0 = 5 when checkpoints are on; docs/checkpoints.md)");
}

// Number checks for CLI11 options that say what is wrong ("--rounds: must be positive,
// not 0") — CLI11's PositiveNumber/NonNegativeNumber print the whole double range.
CLI::Validator NumberAtLeast(double floor, bool inclusive, const char* words);
CLI::Validator Positive();
CLI::Validator NonNegative();

// Adds the shared flags to a CLI11 (sub)command.
void AddSharedFlags(CLI::App* app, agent::NodeOptions* options);

// The shared flags as arguments for a child `grapevine agent`.
std::vector<std::string> SharedFlagsAsArgs(const agent::NodeOptions& options);

// Invalid, naming the flag and who takes it, when an algorithm option was given on the
// command line that none of `algos` declares (`--compress` with `--algo dimat`), or a
// given value one of `algos` does not accept (`--compress topk:0.01` with dpsgd; the
// flag's own check accepts what any algorithm does). `given`: NodeOptions::algo_options.
Status CheckAlgoOptionsGiven(const CLI::App& app, const std::vector<std::string>& algos,
                             const std::map<std::string, std::string>& given);

// Applies --log-level and a log pattern that names the node.
void ConfigureLogging(const std::string& level, const std::string& node_label);

}  // namespace grapevine::tools
