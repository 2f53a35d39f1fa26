// Learning-rate schedules, evaluated per optimizer step.
//
//   constant            lr
//   step:F[:K]          lr · F^⌊epoch / K⌋  (K defaults to 1; decays at epoch boundaries)
//   cosine              lr · ½(1 + cos(π · t / T)), t = steps so far, T = total steps of the
//                       run (PyTorch CosineAnnealingLR with η_min = 0, stepped per batch);
//                       constant when T is unknown (0).
// Pure value type and functions; thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"

namespace grapevine::learn {

struct Schedule {
  enum class Kind { kConstant, kStep, kCosine };
  Kind kind = Kind::kConstant;
  double factor = 0.1;  // step only
  int64_t every = 1;    // step only, epochs
};

// The schedule forms, one row each: the `--schedule` help and ParseSchedule's message
// come from this table (tools/flag_sets.h).
struct ScheduleForm {
  std::string_view syntax;  // "step:FACTOR[:EVERY]"
  std::string_view summary;
};
std::span<const ScheduleForm> AllScheduleForms();

// Invalid with a message naming the bad part for anything else.
Result<Schedule> ParseSchedule(const std::string& text);
std::string ScheduleName(const Schedule& schedule);

// Learning rate for 0-based optimizer step `step`.
// REQUIRES: steps_per_epoch > 0, total_steps >= 0.
double ScheduledRate(const Schedule& schedule, double base_lr, int64_t step,
                     int64_t steps_per_epoch, int64_t total_steps);

}  // namespace grapevine::learn
