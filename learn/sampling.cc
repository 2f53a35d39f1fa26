#include "learn/sampling.h"

#include <array>

#include "base/join.h"

namespace grapevine::learn {
namespace {

constexpr std::array<SamplingForm, 1> kForms = {{
    {"fixed", "--local-steps minibatches every round"},
}};

class FixedSampling final : public SampleSchedule {
 public:
  explicit FixedSampling(int steps) : steps_(steps) {}
  RoundPlan Plan(uint64_t) const override { return {steps_}; }

 private:
  int steps_;
};

}  // namespace

int64_t SampleSchedule::ExamplesInRounds(uint64_t rounds, int batch) const {
  int64_t total = 0;
  for (uint64_t r = 0; r < rounds; ++r) total += static_cast<int64_t>(Plan(r).steps) * batch;
  return total;
}

std::span<const SamplingForm> AllSamplingForms() { return kForms; }

Result<std::unique_ptr<SampleSchedule>> ParseSampling(const std::string& text,
                                                      const SamplingContext& context) {
  if (context.local_steps <= 0) return Status::Invalid("--local-steps must be positive");
  if (text == "fixed") return std::unique_ptr<SampleSchedule>(new FixedSampling(context.local_steps));
  return Status::Invalid("unknown sample schedule '" + text + "' (expected " +
                         JoinNames(AllSamplingForms(),
                                   [](const SamplingForm& f) { return f.syntax; }, " | ") + ")");
}

}  // namespace grapevine::learn
