#include "agent/algorithms/algorithm.h"

#include "learn/trainer.h"

namespace grapevine::agent::algorithms {

void AlgorithmContext::MarkMerged(const std::vector<ArrivedModel>& models) {
  RecordMerged(models);
  if (policy_ == OptimizerPolicy::kReset) trainer().ResetOptimizer();
}

std::vector<ArrivedModel> AlgorithmContext::Exchange(uint64_t tick) {
  BeginExchange(tick);
  return PollUntilDone();
}

std::vector<ArrivedModel> AlgorithmContext::PollUntilDone() {
  while (true) {
    auto models = PollExchange(/*block=*/true, {});
    if (models) return std::move(*models);
  }
}

void Algorithm::Start(AlgorithmContext&, const proto::ModelPayload*) {}
void Algorithm::Stamp(proto::ModelPayload*) const {}
void Algorithm::Serve(AlgorithmContext&) {}
void Algorithm::OnNewIdentity(const std::vector<proto::NodeId>&, proto::NodeId) {}
void Algorithm::OnPeerReplaced(proto::NodeId) {}
std::vector<Metric> Algorithm::Metrics() const { return {}; }

}  // namespace grapevine::agent::algorithms
