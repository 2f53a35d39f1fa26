#include "agent/core/algorithms/consensus.h"

#include "base/check.h"

namespace grapevine::agent::algorithms {

namespace {
double NeighbourMass(std::span<const WeightedVector> neighbours, Eigen::Index size) {
  double mass = 0;
  for (const auto& n : neighbours) {
    GV_CHECK(n.x != nullptr && n.x->size() == size);
    mass += n.weight;
  }
  GV_CHECK(mass <= 1.0 + 1e-6);
  return mass;
}
}  // namespace

void MixInPlace(std::span<const WeightedVector> neighbours, Eigen::VectorXf* x) {
  const double mass = NeighbourMass(neighbours, x->size());
  if (neighbours.empty()) return;
  *x *= static_cast<float>(1.0 - mass);
  for (const auto& n : neighbours) *x += static_cast<float>(n.weight) * *n.x;
}

void DeltaAdd(const Eigen::VectorXf& snapshot, std::span<const WeightedVector> neighbours,
              Eigen::VectorXf* x) {
  GV_CHECK(snapshot.size() == x->size());
  NeighbourMass(neighbours, x->size());
  for (const auto& n : neighbours) *x += static_cast<float>(n.weight) * (*n.x - snapshot);
}

void CombineThenAdapt(const Eigen::VectorXf& before_step,
                      std::span<const WeightedVector> neighbours, Eigen::VectorXf* x) {
  // x_after + mix(before) − before: the same update as the delta-add rule.
  DeltaAdd(before_step, neighbours, x);
}

}  // namespace grapevine::agent::algorithms
