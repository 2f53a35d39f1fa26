// DasoSchedule: when DASO (ALGORITHMS.md §6, agent/algorithms/daso.cc) averages, after
// Heat's DASO (heat/optim/dp_optimizer.py, epoch_loss_logic), with rounds for epochs:
//
//   warm-up   the first `warmup` rounds: a blocking average with every neighbour after
//             every step (D-PSGD);
//   cycling   from then on (gs, ls, btw) = the start values (4, 1, 1): a snapshot to the
//             other groups every gs steps, a blocking average inside the group every ls
//             steps, a snapshot merged at least btw steps after it was sent. At the end
//             of each round the neighbourhood-averaged loss goes to a plateau test (no
//             5 % relative improvement on the best for more than 2 rounds, Heat's
//             DetectMetricPlateau(patience=2, threshold=0.05)); on a plateau gs and ls
//             halve (at least 1) and btw drops by one (at least 1); on a plateau at
//             gs = 1 they reset to twice the start values (8, 2, 2);
//   cool-down the last `cooldown` rounds (when the round count is known): blocking
//             every step again.
//
// Thread-safety: a plain value, used on the training thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace grapevine::agent::algorithms {

struct DasoSettings {
  int warmup = 4;    // rounds
  int cooldown = 4;  // rounds
  int gs = 4;        // steps, at the start of the cycling phase
  int ls = 1;
  int btw = 1;
};

enum class DasoPhase { kWarmup = 0, kCycling = 1, kCooldown = 2 };
const char* DasoPhaseName(DasoPhase phase);

// Heat's DetectMetricPlateau in "min" mode with a relative threshold.
class PlateauDetector {
 public:
  PlateauDetector(double threshold, int patience) : threshold_(threshold), patience_(patience) {}
  // True when `value` ends a plateau: not below best·(1 − threshold) for more than
  // `patience` calls in a row (the count starts again after a plateau).
  bool Test(double value);
  std::optional<double> best() const { return best_; }
  int bad() const { return bad_; }
  void Restore(std::optional<double> best, int bad) {
    best_ = best;
    bad_ = bad;
  }

 private:
  double threshold_;
  int patience_;
  std::optional<double> best_;
  int bad_ = 0;
};

class DasoSchedule {
 public:
  // `total_rounds`: nullopt when the run's length is unknown (no cool-down then).
  DasoSchedule(DasoSettings settings, std::optional<uint64_t> total_rounds);

  // At the start of round `round`; true when the phase or (gs, ls, btw) changed.
  bool BeginRound(uint64_t round);
  // At the end of a round with its neighbourhood-averaged loss; true when (gs, ls, btw)
  // changed. Only the cycling phase changes anything.
  bool EndRound(double averaged_loss);

  DasoPhase phase() const { return phase_; }
  bool blocking() const { return phase_ != DasoPhase::kCycling; }
  int gs() const { return gs_; }
  int ls() const { return ls_; }
  int btw() const { return btw_; }
  const DasoSettings& settings() const { return settings_; }
  // "cycling: gs 4, ls 1, btw 1" / "warm-up: blocking every step".
  std::string Describe() const;

  // Checkpoints: the cycling values and the plateau test's state.
  struct State {
    int gs = 0, ls = 0, btw = 0;
    bool cycling_started = false;
    std::optional<double> best;
    int bad = 0;
  };
  State Save() const;
  void Restore(const State& state);

 private:
  DasoSettings settings_;
  std::optional<uint64_t> total_rounds_;
  DasoPhase phase_ = DasoPhase::kWarmup;
  bool cycling_started_ = false;
  int gs_ = 1, ls_ = 1, btw_ = 0;
  PlateauDetector plateau_{0.05, 2};
};

}  // namespace grapevine::agent::algorithms
