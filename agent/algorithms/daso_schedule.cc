#include "agent/algorithms/daso_schedule.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace grapevine::agent::algorithms {

const char* DasoPhaseName(DasoPhase phase) {
  switch (phase) {
    case DasoPhase::kWarmup:
      return "warm-up";
    case DasoPhase::kCycling:
      return "cycling";
    case DasoPhase::kCooldown:
      return "cool-down";
  }
  return "?";
}

bool PlateauDetector::Test(double value) {
  if (!best_ || value < *best_ * (1.0 - threshold_)) {
    best_ = value;
    bad_ = 0;
    return false;
  }
  if (++bad_ <= patience_) return false;
  bad_ = 0;
  return true;
}

DasoSchedule::DasoSchedule(DasoSettings settings, std::optional<uint64_t> total_rounds)
    : settings_(settings), total_rounds_(total_rounds) {}

bool DasoSchedule::BeginRound(uint64_t round) {
  const DasoPhase before = phase_;
  const uint64_t warmup = static_cast<uint64_t>(settings_.warmup);
  const uint64_t cooldown = static_cast<uint64_t>(settings_.cooldown);
  if (total_rounds_ && round + cooldown >= *total_rounds_ && cooldown > 0) {
    phase_ = DasoPhase::kCooldown;
  } else if (round < warmup) {
    phase_ = DasoPhase::kWarmup;
  } else {
    phase_ = DasoPhase::kCycling;
    if (!cycling_started_) {
      cycling_started_ = true;
      gs_ = settings_.gs;
      ls_ = settings_.ls;
      btw_ = settings_.btw;
    }
  }
  return phase_ != before || round == 0;
}

bool DasoSchedule::EndRound(double averaged_loss) {
  if (phase_ != DasoPhase::kCycling) return false;
  if (!plateau_.Test(averaged_loss)) return false;
  if (gs_ > 1) {
    gs_ = std::max(1, gs_ / 2);
    ls_ = std::max(1, ls_ / 2);
    btw_ = std::max(1, btw_ - 1);
  } else {
    gs_ = 2 * settings_.gs;
    ls_ = 2 * settings_.ls;
    btw_ = 2 * settings_.btw;
  }
  return true;
}

std::string DasoSchedule::Describe() const {
  if (blocking()) return fmt::format("{}: blocking average with every neighbour after every step",
                                     DasoPhaseName(phase_));
  return fmt::format("cycling: global snapshot every {} steps (merged >= {} steps later), "
                     "group average every {} steps",
                     gs_, btw_, ls_);
}

DasoSchedule::State DasoSchedule::Save() const {
  return {gs_, ls_, btw_, cycling_started_, plateau_.best(), plateau_.bad()};
}

void DasoSchedule::Restore(const State& s) {
  gs_ = s.gs;
  ls_ = s.ls;
  btw_ = s.btw;
  cycling_started_ = s.cycling_started;
  plateau_.Restore(s.best, s.bad);
}

}  // namespace grapevine::agent::algorithms
