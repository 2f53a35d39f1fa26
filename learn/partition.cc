#include "learn/partition.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>

#include "base/join.h"
#include "learn/order.h"

namespace grapevine::learn {
namespace {

// Independent random streams of the partition seed, one per purpose.
enum Stream : uint64_t { kIidStream = 101, kDirichletStream, kClassesStream, kShardsStream };

using Shards = std::vector<std::vector<int64_t>>;

// Dirichlet concentration limits: below 1e-4 every class already lands on one node, and
// far smaller values would underflow even the log-space Gamma draws; above 1e6 is iid.
constexpr double kMinAlpha = 1e-4;
constexpr double kMaxAlpha = 1e6;

// log of a Gamma(alpha, 1) draw (Marsaglia–Tsang); log space keeps tiny alphas, whose
// draws underflow a double, usable.
double LogGamma(double alpha, std::mt19937_64& rng) {
  if (alpha < 1.0) {
    const double u = 1.0 - UniformUnit(rng);
    return LogGamma(alpha + 1.0, rng) + std::log(u) / alpha;
  }
  const double d = alpha - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    const double x = StandardNormal(rng);
    const double v = std::pow(1.0 + c * x, 3);
    if (v <= 0.0) continue;
    const double u = 1.0 - UniformUnit(rng);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return std::log(d * v);
  }
}

// Indices of each class, each list shuffled by `rng`.
std::vector<std::vector<int64_t>> ShuffledByClass(std::span<const int32_t> labels, int num_classes,
                                                  std::mt19937_64& rng) {
  std::vector<std::vector<int64_t>> by_class(static_cast<size_t>(num_classes));
  for (size_t i = 0; i < labels.size(); ++i) {
    by_class[static_cast<size_t>(labels[i])].push_back(static_cast<int64_t>(i));
  }
  for (auto& list : by_class) Shuffle(list, rng);
  return by_class;
}

// Rounds proportions × total to integers summing to total (largest remainder; ties go to
// the lower index).
std::vector<int64_t> RoundCounts(const std::vector<double>& proportions, int64_t total) {
  const size_t n = proportions.size();
  std::vector<int64_t> counts(n);
  std::vector<std::pair<double, size_t>> remainders(n);
  int64_t assigned = 0;
  for (size_t j = 0; j < n; ++j) {
    const double exact = proportions[j] * static_cast<double>(total);
    counts[j] = std::min<int64_t>(static_cast<int64_t>(std::floor(exact)), total);
    assigned += counts[j];
    remainders[j] = {exact - std::floor(exact), j};
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t k = 0; assigned < total; k = (k + 1) % n, ++assigned) ++counts[remainders[k].second];
  return counts;
}

Shards Iid(size_t n, int nodes, uint64_t seed) {
  const std::vector<int64_t> perm =
      SeededPermutation(static_cast<int64_t>(n), MixSeed(seed, kIidStream));
  Shards out(static_cast<size_t>(nodes));
  for (int i = 0; i < nodes; ++i) {
    const size_t begin = n * static_cast<size_t>(i) / static_cast<size_t>(nodes);
    const size_t end = n * static_cast<size_t>(i + 1) / static_cast<size_t>(nodes);
    out[static_cast<size_t>(i)].assign(perm.begin() + static_cast<std::ptrdiff_t>(begin),
                                       perm.begin() + static_cast<std::ptrdiff_t>(end));
  }
  return out;
}

Shards Dirichlet(std::span<const int32_t> labels, int num_classes, double alpha, int nodes,
                 uint64_t seed) {
  std::mt19937_64 rng(MixSeed(seed, kDirichletStream));
  const auto by_class = ShuffledByClass(labels, num_classes, rng);
  const size_t n_nodes = static_cast<size_t>(nodes);
  // counts[c][j]: examples of class c that node j receives.
  std::vector<std::vector<int64_t>> counts(by_class.size());
  std::vector<int64_t> node_total(n_nodes, 0);
  std::vector<double> log_g(n_nodes), p(n_nodes);
  for (size_t c = 0; c < by_class.size(); ++c) {
    for (auto& v : log_g) v = LogGamma(alpha, rng);
    const double max_log = *std::max_element(log_g.begin(), log_g.end());
    double sum = 0.0;
    for (size_t j = 0; j < n_nodes; ++j) sum += p[j] = std::exp(log_g[j] - max_log);
    for (auto& v : p) v /= sum;
    counts[c] = RoundCounts(p, static_cast<int64_t>(by_class[c].size()));
    for (size_t j = 0; j < n_nodes; ++j) node_total[j] += counts[c][j];
  }
  // Repair: an empty node takes one example of the largest class of the largest node.
  for (size_t j = 0; j < n_nodes; ++j) {
    if (node_total[j] > 0) continue;
    const size_t donor = static_cast<size_t>(
        std::max_element(node_total.begin(), node_total.end()) - node_total.begin());
    size_t best_class = 0;
    for (size_t c = 1; c < counts.size(); ++c) {
      if (counts[c][donor] > counts[best_class][donor]) best_class = c;
    }
    --counts[best_class][donor];
    --node_total[donor];
    ++counts[best_class][j];
    ++node_total[j];
  }
  Shards out(n_nodes);
  for (size_t c = 0; c < by_class.size(); ++c) {
    auto it = by_class[c].begin();
    for (size_t j = 0; j < n_nodes; ++j) {
      out[j].insert(out[j].end(), it, it + counts[c][j]);
      it += counts[c][j];
    }
  }
  return out;
}

Result<Shards> Classes(std::span<const int32_t> labels, int num_classes, int k, int nodes,
                       uint64_t seed) {
  // holders[c]: the nodes that hold class c, ascending.
  std::vector<std::vector<int>> holders(static_cast<size_t>(num_classes));
  if (k == 0) {
    if (nodes <= num_classes) {
      for (int c = 0; c < num_classes; ++c) holders[static_cast<size_t>(c)] = {c % nodes};
    } else {
      for (int i = 0; i < nodes; ++i) holders[static_cast<size_t>(i % num_classes)].push_back(i);
    }
  } else {
    if (k > num_classes) {
      return Status::Invalid("classes:" + std::to_string(k) + ": there are only " +
                             std::to_string(num_classes) + " classes");
    }
    if (static_cast<int64_t>(k) * nodes < num_classes) {
      return Status::Invalid(
          "classes:" + std::to_string(k) + " with " + std::to_string(nodes) +
          " nodes covers only " + std::to_string(k * nodes) + " of " + std::to_string(num_classes) +
          " classes; use k >= " + std::to_string((num_classes + nodes - 1) / nodes));
    }
    // Walk i, i+N, i+2N, … (mod C); when that cycle (length C/g) closes, step one
    // class further, so a node's K classes are distinct for any K <= C.
    const int64_t g = std::gcd(nodes, num_classes);
    for (int i = 0; i < nodes; ++i) {
      for (int64_t j = 0; j < k; ++j) {
        const int c = static_cast<int>((i + j * nodes + j * g / num_classes) % num_classes);
        auto& h = holders[static_cast<size_t>(c)];
        GV_CHECK(h.empty() || h.back() != i);
        h.push_back(i);
      }
    }
  }
  std::mt19937_64 rng(MixSeed(seed, kClassesStream));
  const auto by_class = ShuffledByClass(labels, num_classes, rng);
  Shards out(static_cast<size_t>(nodes));
  for (size_t c = 0; c < by_class.size(); ++c) {
    const auto& list = by_class[c];
    const size_t m = holders[c].size();
    for (size_t r = 0; r < m; ++r) {
      auto& shard = out[static_cast<size_t>(holders[c][r])];
      shard.insert(shard.end(), list.begin() + static_cast<std::ptrdiff_t>(list.size() * r / m),
                   list.begin() + static_cast<std::ptrdiff_t>(list.size() * (r + 1) / m));
    }
  }
  return out;
}

Shards FedAvgShards(std::span<const int32_t> labels, int nodes, uint64_t seed) {
  const size_t n = labels.size();
  // Sort by label; the seeded permutation breaks ties so a shard is a random sample of
  // its classes.
  std::vector<int64_t> sorted =
      SeededPermutation(static_cast<int64_t>(n), MixSeed(seed, kShardsStream));
  std::stable_sort(sorted.begin(), sorted.end(), [&](int64_t a, int64_t b) {
    return labels[static_cast<size_t>(a)] < labels[static_cast<size_t>(b)];
  });
  const size_t num_shards = 2 * static_cast<size_t>(nodes);
  const std::vector<int64_t> shard_perm =
      SeededPermutation(static_cast<int64_t>(num_shards), MixSeed(seed, kShardsStream + 1000));
  Shards out(static_cast<size_t>(nodes));
  for (size_t k = 0; k < num_shards; ++k) {
    const size_t s = static_cast<size_t>(shard_perm[k]);
    auto& shard = out[k / 2];
    shard.insert(shard.end(), sorted.begin() + static_cast<std::ptrdiff_t>(n * s / num_shards),
                 sorted.begin() + static_cast<std::ptrdiff_t>(n * (s + 1) / num_shards));
  }
  return out;
}

Result<double> ParsePositiveNumber(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v) || v <= 0.0) {
    return Status::Invalid("'" + text + "' is not a positive number");
  }
  return v;
}

}  // namespace

std::string PartitionSpec::ToString() const {
  switch (kind) {
    case Kind::kIid: return "iid";
    case Kind::kDirichlet: {
      char buf[64];
      std::snprintf(buf, sizeof(buf), "dirichlet:%g", alpha);
      return buf;
    }
    case Kind::kClasses:
      return classes_per_node > 0 ? "classes:" + std::to_string(classes_per_node) : "classes";
    case Kind::kShards: return "shards";
  }
  return "?";
}

namespace {
constexpr PartitionForm kPartitionForms[] = {
    {"iid", "seeded shuffle, equal slices"},
    {"dirichlet:ALPHA", "label skew, node proportions per class ~ Dir(ALPHA)"},
    {"classes[:K]", "DIMAT's split: K classes per node"},
    {"shards", "FedAvg: 2 label-sorted shards per node"},
};
}  // namespace

std::span<const PartitionForm> AllPartitionForms() { return kPartitionForms; }

Result<PartitionSpec> ParsePartition(const std::string& spec) {
  const size_t colon = spec.find(':');
  const std::string kind = spec.substr(0, colon);
  const bool has_arg = colon != std::string::npos;
  const std::string arg = has_arg ? spec.substr(colon + 1) : "";
  const std::string usage =
      " (expected " +
      JoinNames(kPartitionForms, [](const PartitionForm& f) { return f.syntax; }, ", ", " or ") +
      ")";
  PartitionSpec out;
  if ((kind == "iid" || kind == "shards") && !has_arg) {
    out.kind = kind == "iid" ? PartitionSpec::Kind::kIid : PartitionSpec::Kind::kShards;
    return out;
  }
  if (kind == "dirichlet" && has_arg) {
    auto alpha = ParsePositiveNumber(arg);
    if (!alpha.ok()) return alpha.status().WithContext("partition '" + spec + "': alpha");
    if (*alpha < kMinAlpha || *alpha > kMaxAlpha) {
      return Status::Invalid("partition '" + spec + "': alpha must be in [1e-4, 1e6]");
    }
    out.kind = PartitionSpec::Kind::kDirichlet;
    out.alpha = *alpha;
    return out;
  }
  if (kind == "classes") {
    out.kind = PartitionSpec::Kind::kClasses;
    if (!has_arg) return out;
    auto k = ParsePositiveNumber(arg);
    if (!k.ok() || *k != std::floor(*k) || *k > 1e6) {
      return Status::Invalid("partition '" + spec + "': K must be a positive integer");
    }
    out.classes_per_node = static_cast<int>(*k);
    return out;
  }
  return Status::Invalid("unknown partition '" + spec + "'" + usage);
}

Result<Shards> PartitionAll(std::span<const int32_t> labels, int num_classes,
                            const PartitionSpec& spec, int nodes, uint64_t seed) {
  if (nodes < 1) return Status::Invalid("partition: node count must be >= 1");
  if (num_classes < 1) return Status::Invalid("partition: need at least one class");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] < 0 || labels[i] >= num_classes) {
      return Status::Invalid("partition: label " + std::to_string(labels[i]) + " of example " +
                             std::to_string(i) + " is outside [0, " + std::to_string(num_classes) +
                             ")");
    }
  }
  const size_t needed = spec.kind == PartitionSpec::Kind::kShards ? 2 * static_cast<size_t>(nodes)
                                                                  : static_cast<size_t>(nodes);
  if (labels.size() < needed) {
    return Status::Invalid("partition " + spec.ToString() + ": " + std::to_string(labels.size()) +
                           " examples are too few for " + std::to_string(nodes) + " nodes");
  }
  Shards shards;
  switch (spec.kind) {
    case PartitionSpec::Kind::kIid: shards = Iid(labels.size(), nodes, seed); break;
    case PartitionSpec::Kind::kDirichlet:
      GV_CHECK(spec.alpha > 0.0);
      shards = Dirichlet(labels, num_classes, spec.alpha, nodes, seed);
      break;
    case PartitionSpec::Kind::kClasses: {
      GV_ASSIGN_OR_RETURN(shards, Classes(labels, num_classes, spec.classes_per_node, nodes, seed));
      break;
    }
    case PartitionSpec::Kind::kShards: shards = FedAvgShards(labels, nodes, seed); break;
  }
  for (size_t i = 0; i < shards.size(); ++i) {
    if (shards[i].empty()) {
      return Status::Invalid("partition " + spec.ToString() + ": node " + std::to_string(i) +
                             " of " + std::to_string(nodes) +
                             " gets no examples (its classes have too few examples)");
    }
    std::sort(shards[i].begin(), shards[i].end());
  }
  return shards;
}

Result<std::vector<int64_t>> PartitionIndices(std::span<const int32_t> labels, int num_classes,
                                              const std::string& spec, int node, int nodes,
                                              uint64_t seed) {
  GV_ASSIGN_OR_RETURN(PartitionSpec parsed, ParsePartition(spec));
  if (node < 0 || node >= nodes) {
    return Status::Invalid("partition: node index " + std::to_string(node) + " is outside [0, " +
                           std::to_string(nodes) + ")");
  }
  GV_ASSIGN_OR_RETURN(Shards all, PartitionAll(labels, num_classes, parsed, nodes, seed));
  return std::move(all[static_cast<size_t>(node)]);
}

}  // namespace grapevine::learn
