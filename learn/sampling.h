// Sample schedules (`--sampling`): how many optimizer steps an agent runs in a round.
// One of the composable parts of an agent run (docs/architecture.md): the Node asks its
// schedule for the round's plan and hands the step count to the running algorithm, so a
// new schedule is a new row here, not an edit to the Node or to any algorithm.
//
//   fixed   --local-steps steps of --batch examples every round (the default; every
//           algorithm's papers use it)
//
// Global-sampling schedules (UGS, LDS: ALGORITHMS.md §8) derive each agent's per-round
// count from the shared seed, the round and the membership table; they add a row and a
// class implementing SampleSchedule.
//
// Thread-safety: the table is immutable; a SampleSchedule belongs to one training thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace grapevine::learn {

// What one agent does in one round.
struct RoundPlan {
  int steps = 0;  // optimizer steps (each one minibatch of --batch examples)
};

class SampleSchedule {
 public:
  virtual ~SampleSchedule() = default;
  // The plan of 0-based round `round`.
  virtual RoundPlan Plan(uint64_t round) const = 0;
  // Examples processed in `rounds` rounds from round 0 (for progress and efficiency
  // figures): Σ steps × batch.
  int64_t ExamplesInRounds(uint64_t rounds, int batch) const;
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
  int local_steps = 0;  // --local-steps; REQUIRES > 0
};

// Invalid (naming the allowed forms) for an unknown or malformed `text`.
Result<std::unique_ptr<SampleSchedule>> ParseSampling(const std::string& text,
                                                      const SamplingContext& context);

}  // namespace grapevine::learn
