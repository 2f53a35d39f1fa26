#include "learn/order.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <numeric>

#include "base/join.h"

namespace grapevine::learn {

ExampleOrder::~ExampleOrder() = default;

uint64_t MixSeed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t UniformBelow(std::mt19937_64& rng, uint64_t bound) {
  GV_CHECK(bound > 0);
  // Rejection from the largest multiple of `bound` representable: unbiased.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound + 1) % bound;
  uint64_t x;
  do {
    x = rng();
  } while (x > limit);
  return x % bound;
}

double UniformUnit(std::mt19937_64& rng) {
  return static_cast<double>(rng() >> 11) * (1.0 / 9007199254740992.0);
}

double StandardNormal(std::mt19937_64& rng) {
  const double u1 = 1.0 - UniformUnit(rng);  // (0, 1]: log stays finite
  const double u2 = UniformUnit(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

void Shuffle(std::span<int64_t> values, std::mt19937_64& rng) {
  for (size_t i = values.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(UniformBelow(rng, i));
    std::swap(values[i - 1], values[j]);
  }
}

std::vector<int64_t> SeededPermutation(int64_t n, uint64_t seed) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  Shuffle(perm, rng);
  return perm;
}

double HerdingBound(const Eigen::Ref<const Eigen::MatrixXf>& vectors,
                    std::span<const int64_t> order, HerdingNorm norm) {
  if (order.empty()) return 0.0;
  Eigen::VectorXd mean = Eigen::VectorXd::Zero(vectors.rows());
  for (int64_t i : order) mean += vectors.col(i).cast<double>();
  mean /= static_cast<double>(order.size());
  Eigen::VectorXd prefix = Eigen::VectorXd::Zero(vectors.rows());
  double bound = 0.0;
  for (int64_t i : order) {
    prefix += vectors.col(i).cast<double>() - mean;
    const double value =
        norm == HerdingNorm::kInf ? prefix.lpNorm<Eigen::Infinity>() : prefix.norm();
    bound = std::max(bound, value);
  }
  return bound;
}

namespace {

constexpr uint64_t kEpochStream = 0x6f72646572ull;  // "order"

class RandomReshuffle final : public ExampleOrder {
 public:
  RandomReshuffle(int64_t n, uint64_t seed) : n_(n), seed_(seed) { Reshuffle(); }

  const std::vector<int64_t>& EpochOrder() const override { return order_; }
  bool WantsGradients() const override { return false; }
  void Observe(int64_t, const Eigen::Ref<const Eigen::VectorXf>&) override {}
  void EndEpoch() override {
    ++epoch_;
    Reshuffle();
  }
  void SaveState(ByteWriter& out) const override { out.U64(epoch_); }
  Status LoadState(ByteReader& in) override {
    const uint64_t epoch = in.U64();
    if (!in.ok()) return Status::Invalid("example order state is truncated");
    epoch_ = epoch;
    Reshuffle();
    return Status::Ok();
  }

 private:
  void Reshuffle() { order_ = SeededPermutation(n_, MixSeed(seed_, kEpochStream + epoch_)); }

  const int64_t n_;
  const uint64_t seed_;
  uint64_t epoch_ = 0;
  std::vector<int64_t> order_;
};

// PairBalance: consecutive observed units form pairs (a, b); the signed running sum s
// decides which of the two goes to the next front slot and which to the next back slot.
class PairBalance final : public ExampleOrder {
 public:
  PairBalance(int64_t n, int64_t dim, uint64_t seed, bool share)
      : n_(n),
        seed_(seed),
        share_(share),
        sum_(Eigen::VectorXf::Zero(dim)),
        pending_(dim),
        own_delta_(share ? dim : 0),
        slot_of_(static_cast<size_t>(n)) {
    SetOrder(SeededPermutation(n_, MixSeed(seed_, kEpochStream)));
  }

  bool SharesSignedSum() const override { return share_; }
  Eigen::VectorXf TakeSignedSumDelta() override {
    Eigen::VectorXf out = own_delta_;
    own_delta_.setZero();
    return out;
  }
  void AddNeighbourSignedSum(const Eigen::Ref<const Eigen::VectorXf>& delta) override {
    if (!share_) return;
    GV_CHECK(delta.size() == sum_.size());
    sum_ += delta;
  }

  const std::vector<int64_t>& EpochOrder() const override { return order_; }
  bool WantsGradients() const override { return true; }

  void Observe(int64_t example, const Eigen::Ref<const Eigen::VectorXf>& grad) override {
    GV_CHECK(example >= 0 && example < n_);
    GV_CHECK(grad.size() == sum_.size());
    const int64_t slot = slot_of_[static_cast<size_t>(example)];
    GV_CHECK_MSG(unit_start_.empty() || slot > unit_start_.back(),
                 "GraB units must be observed in visit order, once per epoch");
    unit_start_.push_back(slot);
    if (!has_pending_) {
      pending_ = grad;
      has_pending_ = true;
      return;
    }
    // z = g_a − g_b; keep the sign that does not grow ⟨s, z⟩.
    const float dot = sum_.dot(pending_) - sum_.dot(grad);
    const bool a_first = dot <= 0.0f;
    const float sign = a_first ? 1.0f : -1.0f;
    sum_ += sign * pending_;
    sum_ -= sign * grad;
    if (share_) {
      own_delta_ += sign * pending_;
      own_delta_ -= sign * grad;
    }
    a_first_.push_back(a_first);
    has_pending_ = false;
  }

  void EndEpoch() override {
    ++epoch_;
    if (unit_start_.empty()) {
      SetOrder(SeededPermutation(n_, MixSeed(seed_, kEpochStream + epoch_)));
      return;
    }
    std::vector<int64_t> next(static_cast<size_t>(n_));
    int64_t front = 0;
    int64_t back = n_;  // one past the last free back slot
    auto unit_end = [&](size_t u) { return u + 1 < unit_start_.size() ? unit_start_[u + 1] : n_; };
    auto place_front = [&](int64_t begin, int64_t end) {
      for (int64_t k = begin; k < end; ++k) next[static_cast<size_t>(front++)] = order_[k];
    };
    auto place_back = [&](int64_t begin, int64_t end) {
      back -= end - begin;
      for (int64_t k = begin; k < end; ++k) {
        next[static_cast<size_t>(back + k - begin)] = order_[static_cast<size_t>(k)];
      }
    };
    for (size_t p = 0; p < a_first_.size(); ++p) {
      const size_t a = 2 * p, b = 2 * p + 1;
      if (a_first_[p]) {
        place_front(unit_start_[a], unit_end(a));
        place_back(unit_start_[b], unit_end(b));
      } else {
        place_front(unit_start_[b], unit_end(b));
        place_back(unit_start_[a], unit_end(a));
      }
    }
    // Middle: unobserved leading entries, then an unpaired last unit (odd count).
    place_front(0, unit_start_.front());
    if (has_pending_) place_front(unit_start_.back(), n_);
    GV_CHECK(front == back);
    SetOrder(std::move(next));
  }

  void SaveState(ByteWriter& out) const override {
    out.U64(epoch_);
    out.U64(order_.size());
    for (int64_t v : order_) out.I64(v);
    out.Floats({sum_.data(), static_cast<size_t>(sum_.size())});
    out.Floats({pending_.data(), static_cast<size_t>(pending_.size())});
    out.Floats({own_delta_.data(), static_cast<size_t>(own_delta_.size())});
    out.U8(has_pending_ ? 1 : 0);
    out.U64(unit_start_.size());
    for (int64_t v : unit_start_) out.I64(v);
    out.U64(a_first_.size());
    for (bool b : a_first_) out.U8(b ? 1 : 0);
  }

  Status LoadState(ByteReader& in) override {
    const uint64_t epoch = in.U64();
    std::vector<int64_t> order(std::min<uint64_t>(in.U64(), in.left() / 8));
    for (auto& v : order) v = in.I64();
    std::vector<float> sum = in.Floats(), pending = in.Floats(), delta = in.Floats();
    const bool has_pending = in.U8() != 0;
    std::vector<int64_t> units(std::min<uint64_t>(in.U64(), in.left() / 8));
    for (auto& v : units) v = in.I64();
    std::vector<bool> a_first(std::min<uint64_t>(in.U64(), in.left()));
    for (size_t k = 0; k < a_first.size(); ++k) a_first[k] = in.U8() != 0;
    if (!in.ok()) return Status::Invalid("GraB order state is truncated");
    std::vector<int64_t> seen(static_cast<size_t>(n_), 0);
    bool permutation = order.size() == static_cast<size_t>(n_);
    for (int64_t v : order) {
      permutation = permutation && v >= 0 && v < n_ && seen[static_cast<size_t>(v)]++ == 0;
    }
    if (!permutation || sum.size() != static_cast<size_t>(sum_.size()) ||
        pending.size() != static_cast<size_t>(pending_.size()) ||
        delta.size() != static_cast<size_t>(own_delta_.size())) {
      return Status::Invalid("GraB order state is for another shard or model size");
    }
    for (int64_t u : units) {
      if (u < 0 || u >= n_) return Status::Invalid("GraB order state has a unit outside the epoch");
    }
    SetOrder(std::move(order));
    epoch_ = epoch;
    auto to_vec = [](const std::vector<float>& f) {
      return Eigen::Map<const Eigen::VectorXf>(f.data(), static_cast<Eigen::Index>(f.size()));
    };
    sum_ = to_vec(sum);
    pending_ = to_vec(pending);
    own_delta_ = to_vec(delta);
    has_pending_ = has_pending;
    unit_start_ = std::move(units);
    a_first_ = std::move(a_first);
    return Status::Ok();
  }

 private:
  void SetOrder(std::vector<int64_t> order) {
    order_ = std::move(order);
    for (size_t k = 0; k < order_.size(); ++k)
      slot_of_[static_cast<size_t>(order_[k])] = static_cast<int64_t>(k);
    sum_.setZero();
    own_delta_.setZero();
    has_pending_ = false;
    unit_start_.clear();
    a_first_.clear();
  }

  const int64_t n_;
  const uint64_t seed_;
  const bool share_;
  uint64_t epoch_ = 0;
  Eigen::VectorXf sum_;        // s: running signed sum of pair differences (+ neighbours')
  Eigen::VectorXf pending_;    // gradient of the first unit of the open pair
  Eigen::VectorXf own_delta_;  // cd-grab: this order's share of s not yet taken
  bool has_pending_ = false;
  std::vector<int64_t> order_;
  std::vector<int64_t> slot_of_;     // position → its index in order_
  std::vector<int64_t> unit_start_;  // first slot of each observed unit, increasing
  std::vector<bool> a_first_;        // per closed pair: did its first unit go front?
};

constexpr OrderKind kOrderKinds[] = {
    {"rr", "random reshuffling", true, true, ""},
    {"grab", "GraB PairBalance, per process", true, true, ""},
    // ALGORITHMS.md §7: CD-GraB balances against one running sum shared by all workers.
    // Alone (train) it is grab; a swarm agent would have to piggyback its signed sum on
    // its model messages (level L1), which the agent does not do yet.
    {"cd-grab", "CD-GraB: PairBalance with the signed sum shared across agents", false, false,
     "CD-GraB needs agents that exchange their signed sums on model messages (ALGORITHMS.md "
     "§7, level L1), which the agent does not do yet; alone it is the same as grab"},
};

}  // namespace

std::span<const OrderKind> AllOrderKinds() { return kOrderKinds; }

Result<OrderKind> FindOrderKind(std::string_view name) {
  for (const auto& k : kOrderKinds) {
    if (k.name == name) return k;
  }
  return Status::Invalid("unknown example order '" + std::string(name) + "' (expected " +
                         JoinNames(kOrderKinds, [](const OrderKind& k) { return k.name; }, ", ",
                                   " or ") +
                         ")");
}

bool AvailableAt(const OrderKind& kind, OrderSite site) {
  return site == OrderSite::kTrain ? kind.in_train : kind.in_agent;
}

Result<std::unique_ptr<ExampleOrder>> MakeOrder(const std::string& kind, int64_t n, int64_t dim,
                                                uint64_t seed) {
  if (n < 1)
    return Status::Invalid("example order: need at least one example, got " + std::to_string(n));
  GV_RETURN_IF_ERROR(FindOrderKind(kind).status());
  if (kind == "rr") return std::unique_ptr<ExampleOrder>(new RandomReshuffle(n, seed));
  if (dim < 1) return Status::Invalid(kind + " order: gradient dimension must be positive");
  return std::unique_ptr<ExampleOrder>(new PairBalance(n, dim, seed, kind == "cd-grab"));
}

}  // namespace grapevine::learn
