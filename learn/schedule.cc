#include "learn/schedule.h"

#include <charconv>
#include <cmath>

#include "base/check.h"
#include "base/join.h"

namespace grapevine::learn {

namespace {
constexpr ScheduleForm kScheduleForms[] = {
    {"constant", "the same rate throughout"},
    {"step:FACTOR[:EVERY]", "times FACTOR every EVERY epochs of the shard (default 1)"},
    {"cosine", "cosine decay to 0 over the run, per step"},
};
}  // namespace

std::span<const ScheduleForm> AllScheduleForms() { return kScheduleForms; }

Result<Schedule> ParseSchedule(const std::string& text) {
  Schedule s;
  if (text == "constant") return s;
  if (text == "cosine") {
    s.kind = Schedule::Kind::kCosine;
    return s;
  }
  const std::string prefix = "step:";
  if (text.rfind(prefix, 0) != 0) {
    return Status::Invalid(
        "unknown schedule '" + text + "' (expected " +
        JoinNames(kScheduleForms, [](const ScheduleForm& f) { return f.syntax; }, ", ", " or ") +
        ")");
  }
  s.kind = Schedule::Kind::kStep;
  const std::string rest = text.substr(prefix.size());
  const size_t colon = rest.find(':');
  const std::string factor = rest.substr(0, colon);
  const char* end = factor.data() + factor.size();
  auto [p1, e1] = std::from_chars(factor.data(), end, s.factor);
  if (factor.empty() || e1 != std::errc() || p1 != end || !(s.factor > 0.0) || s.factor > 1.0) {
    return Status::Invalid("schedule '" + text + "': bad factor '" + factor + "' (0 < F <= 1)");
  }
  if (colon != std::string::npos) {
    const std::string every = rest.substr(colon + 1);
    const char* end2 = every.data() + every.size();
    auto [p2, e2] = std::from_chars(every.data(), end2, s.every);
    if (every.empty() || e2 != std::errc() || p2 != end2 || s.every < 1) {
      return Status::Invalid("schedule '" + text + "': bad epoch interval '" + every + "'");
    }
  }
  return s;
}

std::string ScheduleName(const Schedule& s) {
  switch (s.kind) {
    case Schedule::Kind::kConstant: return "constant";
    case Schedule::Kind::kCosine: return "cosine";
    case Schedule::Kind::kStep: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "step:%g:%lld", s.factor, static_cast<long long>(s.every));
      return buf;
    }
  }
  return "?";
}

double ScheduledRate(const Schedule& s, double base_lr, int64_t step, int64_t steps_per_epoch,
                     int64_t total_steps) {
  GV_CHECK(steps_per_epoch > 0 && total_steps >= 0 && step >= 0);
  switch (s.kind) {
    case Schedule::Kind::kConstant:
      return base_lr;
    case Schedule::Kind::kStep: {
      const int64_t epoch = step / steps_per_epoch;
      return base_lr * std::pow(s.factor, static_cast<double>(epoch / s.every));
    }
    case Schedule::Kind::kCosine: {
      if (total_steps == 0) return base_lr;
      const double t = static_cast<double>(std::min(step, total_steps));
      return base_lr * 0.5 * (1.0 + std::cos(M_PI * t / static_cast<double>(total_steps)));
    }
  }
  return base_lr;
}

}  // namespace grapevine::learn
