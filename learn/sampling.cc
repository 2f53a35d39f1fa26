#include "learn/sampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

#include "base/join.h"
#include "learn/order.h"

namespace grapevine::learn {
namespace {

constexpr std::array<SamplingForm, 3> kForms = {{
    {"fixed", "--local-steps minibatches every round"},
    {"ugs", "uniform global sampling: a global batch (--global-batch) drawn without replacement "
            "from the pooled shards each step, steps scaled by n*b_i/B"},
    {"lds[:ALPHA]", "latent Dirichlet sampling: per step theta ~ Dirichlet(ALPHA*p), "
                    "b ~ Multinomial(B, theta) capped by what is left (default ALPHA 1)"},
}};

// The step scale n·b_i/B is clipped here (ALGORITHMS.md §8).
constexpr float kMaxScale = 4.0f;

class FixedSampling final : public SampleSchedule {
 public:
  explicit FixedSampling(int steps) : steps_(steps) {}
  RoundPlan Plan(uint64_t) const override { return {steps_, {}}; }

 private:
  int steps_;
};

// Gamma(shape, 1) by Marsaglia and Tsang (2000), with the shape < 1 boost; portable
// (only the standard's fixed mt19937_64 stream and our own transforms).
double Gamma(double shape, std::mt19937_64& rng) {
  if (shape < 1.0) {
    const double u = UniformUnit(rng);
    return Gamma(shape + 1.0, rng) * std::pow(std::max(u, 1e-300), 1.0 / shape);
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = StandardNormal(rng);
    const double t = 1.0 + c * x;
    if (t <= 0) continue;
    const double v = t * t * t;
    const double u = UniformUnit(rng);
    if (std::log(std::max(u, 1e-300)) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v;
  }
}

// Draws `count` examples one at a time from agents with examples left, agent j with
// weight w_j · [left_j > 0] (renormalised after every draw): w = left for UGS (exact
// sampling without replacement, i.e. multivariate hypergeometric), w = θ for LDS
// (a multinomial capped by what is left).
std::vector<int64_t> DrawStep(std::vector<int64_t>& left, const std::vector<double>& w,
                              int64_t count, std::mt19937_64& rng) {
  std::vector<int64_t> b(left.size(), 0);
  for (int64_t k = 0; k < count; ++k) {
    double total = 0;
    for (size_t j = 0; j < left.size(); ++j) {
      if (left[j] > 0) total += w[j] > 0 ? w[j] : 0.0;
    }
    size_t pick = left.size();
    if (total > 0) {
      double r = UniformUnit(rng) * total;
      for (size_t j = 0; j < left.size(); ++j) {
        if (left[j] <= 0 || w[j] <= 0) continue;
        pick = j;
        r -= w[j];
        if (r < 0) break;
      }
    } else {  // θ put no weight where examples are left: the first agent with any
      for (size_t j = 0; j < left.size() && pick == left.size(); ++j) {
        if (left[j] > 0) pick = j;
      }
    }
    if (pick == left.size()) break;  // nothing left anywhere
    ++b[pick];
    --left[pick];
  }
  return b;
}

// ugs and lds: the epoch's table is derived once, from (seed, epoch) and the shard
// sizes, and kept (an epoch is a few hundred steps × agents).
class GlobalSchedule final : public GlobalSampling {
 public:
  GlobalSchedule(const SamplingContext& c, std::optional<double> alpha)
      : sizes_(c.shard_sizes), self_(c.self), seed_(c.seed), steps_(c.local_steps),
        alpha_(alpha) {
    const int64_t n = static_cast<int64_t>(sizes_.size());
    batch_ = c.global_batch > 0 ? c.global_batch : n * c.batch;
    const int64_t pooled = std::accumulate(sizes_.begin(), sizes_.end(), int64_t{0});
    steps_per_epoch_ = (pooled + batch_ - 1) / batch_;
  }

  RoundPlan Plan(uint64_t round) const override {
    RoundPlan plan;
    plan.steps = steps_;
    const float n = static_cast<float>(sizes_.size());
    for (int s = 0; s < steps_; ++s) {
      const uint64_t g = round * static_cast<uint64_t>(steps_) + static_cast<uint64_t>(s);
      const auto& table = Epoch(g / static_cast<uint64_t>(steps_per_epoch_));
      const int64_t b = table[g % static_cast<uint64_t>(steps_per_epoch_)][static_cast<size_t>(self_)];
      const float scale = std::min(kMaxScale, n * static_cast<float>(b) / static_cast<float>(batch_));
      plan.per_step.push_back({b, scale});
    }
    return plan;
  }

  std::vector<std::vector<int64_t>> EpochCounts(uint64_t epoch) const override {
    return Epoch(epoch);
  }

  // Every full epoch uses our whole shard; only the last, partial one needs its table.
  int64_t ExamplesInRounds(uint64_t rounds, int) const override {
    const uint64_t steps = rounds * static_cast<uint64_t>(steps_);
    const uint64_t per_epoch = static_cast<uint64_t>(steps_per_epoch_);
    int64_t total = static_cast<int64_t>(steps / per_epoch) * sizes_[static_cast<size_t>(self_)];
    if (steps % per_epoch != 0) {
      const auto& table = Epoch(steps / per_epoch);
      for (uint64_t k = 0; k < steps % per_epoch; ++k) total += table[k][static_cast<size_t>(self_)];
    }
    return total;
  }
  int64_t steps_per_epoch() const override { return steps_per_epoch_; }

 private:
  const std::vector<std::vector<int64_t>>& Epoch(uint64_t epoch) const {
    auto it = cache_.find(epoch);
    if (it != cache_.end()) return it->second;
    if (cache_.size() > 2) cache_.erase(cache_.begin());  // rounds move forward
    std::mt19937_64 rng(MixSeed(seed_, 0x5A3D0000u + epoch));
    std::vector<int64_t> left = sizes_;
    std::vector<std::vector<int64_t>> table;
    std::vector<double> w(sizes_.size());
    for (int64_t k = 0; k < steps_per_epoch_; ++k) {
      if (alpha_) {
        const double remaining = static_cast<double>(std::accumulate(left.begin(), left.end(), int64_t{0}));
        double sum = 0;
        for (size_t j = 0; j < w.size(); ++j) {
          const double p = remaining > 0 ? static_cast<double>(left[j]) / remaining : 0.0;
          w[j] = p > 0 ? Gamma(*alpha_ * p * static_cast<double>(w.size()), rng) : 0.0;
          sum += w[j];
        }
        if (sum > 0) {
          for (double& x : w) x /= sum;
        }
      } else {
        for (size_t j = 0; j < w.size(); ++j) w[j] = static_cast<double>(left[j]);
      }
      table.push_back(DrawStep(left, w, batch_, rng));
    }
    return cache_.emplace(epoch, std::move(table)).first->second;
  }

  std::vector<int64_t> sizes_;
  int self_;
  uint64_t seed_;
  int steps_;
  std::optional<double> alpha_;  // lds; nullopt for ugs
  int64_t batch_ = 0;
  int64_t steps_per_epoch_ = 1;
  mutable std::map<uint64_t, std::vector<std::vector<int64_t>>> cache_;
};

std::string FormsText() {
  return JoinNames(AllSamplingForms(), [](const SamplingForm& f) { return f.syntax; }, " | ");
}

}  // namespace

int64_t SampleSchedule::ExamplesInRounds(uint64_t rounds, int batch) const {
  int64_t total = 0;
  for (uint64_t r = 0; r < rounds; ++r) total += static_cast<int64_t>(Plan(r).steps) * batch;
  return total;
}

std::span<const SamplingForm> AllSamplingForms() { return kForms; }

bool IsGlobalSampling(const std::string& text) {
  return text == "ugs" || text == "lds" || text.rfind("lds:", 0) == 0;
}

namespace {

// lds's α (nullopt for ugs). REQUIRES: IsGlobalSampling(text).
Result<std::optional<double>> GlobalAlpha(const std::string& text) {
  std::optional<double> alpha;
  if (text != "ugs") {
    alpha = 1.0;
    if (text != "lds") {  // "lds:A"
      const std::string value = text.substr(4);
      char* end = nullptr;
      const double a = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size() || !std::isfinite(a) || a <= 0) {
        return Status::Invalid("--sampling " + text + ": ALPHA must be a positive number, not '" +
                               value + "'");
      }
      alpha = a;
    }
  }
  return alpha;
}

}  // namespace

Status CheckSampling(const std::string& text) {
  if (text == "fixed") return Status::Ok();
  if (!IsGlobalSampling(text)) {
    return Status::Invalid("unknown sample schedule '" + text + "' (expected " + FormsText() + ")");
  }
  return GlobalAlpha(text).status();
}

Result<std::unique_ptr<SampleSchedule>> ParseSampling(const std::string& text,
                                                      const SamplingContext& context) {
  if (context.local_steps <= 0) return Status::Invalid("--local-steps must be positive");
  GV_RETURN_IF_ERROR(CheckSampling(text));
  if (text == "fixed") return std::unique_ptr<SampleSchedule>(new FixedSampling(context.local_steps));
  GV_ASSIGN_OR_RETURN(std::optional<double> alpha, GlobalAlpha(text));
  if (context.shard_sizes.empty() || context.self < 0 ||
      context.self >= static_cast<int>(context.shard_sizes.size())) {
    return Status::Invalid("--sampling " + text + " needs the table of every agent's shard");
  }
  if (context.global_batch < 0) return Status::Invalid("--global-batch must be >= 0");
  if (context.batch <= 0) return Status::Invalid("--batch must be positive");
  return std::unique_ptr<SampleSchedule>(new GlobalSchedule(context, alpha));
}

}  // namespace grapevine::learn
