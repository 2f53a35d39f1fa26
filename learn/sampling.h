// Sample schedules (`--sampling`): how many optimizer steps an agent runs in a round.
// One of the composable parts of an agent run (docs/architecture.md): the Node asks its
// schedule for the round's plan and hands the step count to the running algorithm, so a
// new schedule is a new row here, not an edit to the Node or to any algorithm.
//
//   fixed      --local-steps steps of --batch examples every round (the default; every
//              algorithm's papers use it)
//   ugs        Uniform Global Sampling (Kohankhaki et al. 2024; ALGORITHMS.md §8): every
//              optimizer step is one global step of the swarm; a global batch of B
//              examples (--global-batch, default agents × --batch) is drawn without
//              replacement from the pooled data (multivariate hypergeometric over what
//              each agent has left this epoch), and agent i processes its b_i of them
//              with its step scaled by n·b_i/B (clipped at 4), so the swarm's average
//              follows pooled SGD with batch B. b_i = 0: the step is skipped (the agent
//              still gossips). Every shard is used exactly once per epoch, and all agents
//              end an epoch at the same global step.
//   lds[:A]    Latent Dirichlet Sampling: per global step θ ~ Dirichlet(A·p) (p = each
//              agent's share of what is left, default A = 1), b ~ Multinomial(B, θ),
//              capped by what each agent has left; small A puts a step's work on few
//              agents (fewer wait on a straggler), A → ∞ tends to ugs.
//
// The global schedules are pure functions of the shared seed, the epoch, the step and
// the table of shard sizes, so every agent derives the same counts without a message.

// Thread-safety: the table is immutable; a SampleSchedule belongs to one training thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace grapevine::learn {

// One optimizer step of a global schedule: this agent's examples (0 = no compute) and
// its learning-rate scale.
struct StepPlan {
  int64_t examples = 0;
  float lr_scale = 1.0f;
  bool operator==(const StepPlan&) const = default;
};

// What one agent does in one round.
struct RoundPlan {
  int steps = 0;  // optimizer steps (each one minibatch of --batch examples)
  // Global schedules: one entry per step (the trainer takes them in order,
  // learn::Trainer::PlanSteps); empty for fixed.
  std::vector<StepPlan> per_step;
};

class SampleSchedule {
 public:
  virtual ~SampleSchedule() = default;
  // The plan of 0-based round `round`.
  virtual RoundPlan Plan(uint64_t round) const = 0;
  // Examples this agent processes in `rounds` rounds from round 0 (for progress and
  // efficiency figures): Σ steps × batch, or Σ examples of a global schedule.
  virtual int64_t ExamplesInRounds(uint64_t rounds, int batch) const;
};

// A global schedule's whole table, for tests and reports: counts[step][agent] of one
// epoch (every agent's, not only ours).
class GlobalSampling : public SampleSchedule {
 public:
  virtual std::vector<std::vector<int64_t>> EpochCounts(uint64_t epoch) const = 0;
  virtual int64_t steps_per_epoch() const = 0;
};

// The schedule forms, one row each: the `--sampling` help and ParseSampling's message
// come from this table (tools/flag_sets.h).
struct SamplingForm {
  std::string_view syntax;   // "fixed"
  std::string_view summary;
};
std::span<const SamplingForm> AllSamplingForms();

// What a schedule needs from the agent's options.
struct SamplingContext {
  explicit SamplingContext(int steps = 0) : local_steps(steps) {}
  int local_steps = 0;  // --local-steps; REQUIRES > 0
  // Global schedules only: every agent's shard size (index = shard), which one is ours,
  // the swarm's shared seed, --global-batch (0 = agents × batch) and --batch.
  std::vector<int64_t> shard_sizes;
  int self = 0;
  uint64_t seed = 0;
  int64_t global_batch = 0;
  int batch = 64;
};
// Whether `text` names a global schedule (it needs the table of shard sizes).
bool IsGlobalSampling(const std::string& text);
// The form alone (as the flag check sees it): Invalid naming the allowed forms.
Status CheckSampling(const std::string& text);

// Invalid (naming the allowed forms) for an unknown or malformed `text`.
Result<std::unique_ptr<SampleSchedule>> ParseSampling(const std::string& text,
                                                      const SamplingContext& context);

}  // namespace grapevine::learn
