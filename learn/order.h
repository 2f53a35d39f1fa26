// Example ordering within an epoch: random reshuffling (`rr`) and GraB's PairBalance
// (`grab`, ALGORITHMS.md §7), plus the seeded permutations the data code shares.
//
// The trainer owns one ExampleOrder per data shard. Each epoch it visits EpochOrder()
// (positions 0..n-1 into its shard). When WantsGradients() is true it calls Observe()
// once per *unit* in visit order, then EndEpoch() to compute the next order.
//
// Unit contract (GraB): a unit is either one example or a micro-batch of consecutive
// entries of EpochOrder(). Observe(example, grad) names the unit by the position
// stored at its FIRST entry (EpochOrder()[k]) and passes the unit's gradient (a sum or a
// mean; use the same kind for every unit). A unit extends from its first entry to the
// entry before the next observed unit's first entry (the last unit to the end of the
// epoch), so micro-batches are reordered as blocks and keep their inner order. Units may
// differ in size (a short last micro-batch is fine). Entries before the first observed
// unit are kept, in order, in the middle of the next epoch. If no unit was observed in
// an epoch, the next order is a fresh seeded permutation (as rr).
//
// Determinism: every order is a function of (kind, n, seed, observed gradients); the
// random parts use std::mt19937_64 (whose sequence the standard fixes) and our own
// integer sampling, so orders agree across standard libraries.
// Thread-safety: not thread-safe; one instance per trainer thread.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace grapevine::learn {

class ExampleOrder {
 public:
  virtual ~ExampleOrder();
  // This epoch's visit order: a permutation of 0..n-1.
  virtual const std::vector<int64_t>& EpochOrder() const = 0;
  // True if the trainer must call Observe() for each unit (GraB).
  virtual bool WantsGradients() const = 0;
  // REQUIRES: WantsGradients(); units observed in visit order, each once per epoch;
  // grad.size() == dim given to MakeOrder.
  virtual void Observe(int64_t example, const Eigen::Ref<const Eigen::VectorXf>& grad) = 0;
  // Ends the epoch; EpochOrder() then returns the next epoch's order.
  virtual void EndEpoch() = 0;

  // CD-GraB without a server (ALGORITHMS.md §7, level L1), only for kind "cd-grab": the
  // agent piggybacks this order's own signed-sum contribution on its model messages and
  // adds what neighbours send into its running sum s, so every agent balances against
  // (an estimate of) the shared sum. Contributions not taken by the end of an epoch are
  // dropped with s.
  virtual bool SharesSignedSum() const { return false; }
  // The change this order itself made to s since the last call; the call zeroes it.
  // Empty for orders that do not share.
  virtual Eigen::VectorXf TakeSignedSumDelta() { return {}; }
  // Adds a neighbour's delta into s. REQUIRES: delta.size() == dim. No-op unless sharing.
  virtual void AddNeighbourSignedSum(const Eigen::Ref<const Eigen::VectorXf>& delta) {}

  // Checkpoints: the whole state, mid-epoch included (rr: the epoch number, its order is
  // recomputed from the seed; grab: epoch, this epoch's order, the signed sum, the open
  // pair and the units seen). LoadState on an order made by MakeOrder with the same kind,
  // n, dim and seed continues exactly as the saved one would; Invalid (nothing changed)
  // for a state of another size.
  virtual void SaveState(ByteWriter& out) const = 0;
  virtual Status LoadState(ByteReader& in) = 0;
};

// Where an example order runs: one process (`grapevine train`) or a swarm agent
// (`grapevine agent`, `launch`).
enum class OrderSite { kTrain, kAgent };

// The example orders, one row each: the single table behind MakeOrder, the `--order`
// help and its check (tools/flag_sets.h).
struct OrderKind {
  std::string_view name;
  std::string_view summary;
  bool in_train;  // works in one process
  bool in_agent;  // works in a swarm agent
  // Why it does not work where a flag is false (shown when someone asks for it there).
  std::string_view unavailable;
};
std::span<const OrderKind> AllOrderKinds();
// The row of `name`; Invalid naming every kind when there is none.
Result<OrderKind> FindOrderKind(std::string_view name);
bool AvailableAt(const OrderKind& kind, OrderSite site);

// kind: "rr" (fresh seeded permutation each epoch), "grab" (PairBalance; `dim` is the
// gradient length, memory is 2·dim floats plus the order) or "cd-grab" (PairBalance that
// shares its signed sum, 3·dim floats). Invalid for another kind or n < 1.
Result<std::unique_ptr<ExampleOrder>> MakeOrder(const std::string& kind, int64_t n, int64_t dim,
                                                uint64_t seed);

// Herding bound of `order` over `vectors` (one vector per column):
//   max over k of ‖Σ_{i<k} (v_order[i] − mean)‖, with the ∞-norm (GraB's measure) or the
// 2-norm. `order` may visit a subset; the mean is over the columns it visits.
enum class HerdingNorm { kInf, kL2 };
double HerdingBound(const Eigen::Ref<const Eigen::MatrixXf>& vectors,
                    std::span<const int64_t> order, HerdingNorm norm = HerdingNorm::kInf);

// ---- Deterministic randomness shared by the data code (partition, hold-out, synthetic).

// A well-mixed seed for independent stream `stream` of `seed` (SplitMix64 finaliser).
uint64_t MixSeed(uint64_t seed, uint64_t stream);
// Uniform integer in [0, bound), unbiased. REQUIRES: bound > 0.
uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound);
// Uniform double in [0, 1) with 53 random bits.
double UniformUnit(std::mt19937_64& rng);
// Standard normal draw (Box–Muller; one draw per call).
double StandardNormal(std::mt19937_64& rng);
// Fisher–Yates shuffle in place.
void Shuffle(std::span<int64_t> values, std::mt19937_64& rng);
// A uniformly random permutation of 0..n-1 determined by `seed`.
std::vector<int64_t> SeededPermutation(int64_t n, uint64_t seed);

}  // namespace grapevine::learn
