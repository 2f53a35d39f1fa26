// Splitting a training set across agents without coordination.
//
// Every agent calls PartitionIndices with the same (labels, num_classes, spec, nodes,
// seed) and its own node index; the shards of all nodes are disjoint, cover every index
// exactly once, are non-empty, and depend on nothing else (no communication, no
// std:: distribution whose output varies between standard libraries).
//
// Kinds (exact definitions in docs/data.md):
//   iid           seeded shuffle, node i gets slice [⌊i·n/N⌋, ⌊(i+1)·n/N⌋)
//   dirichlet:A   label skew: per class, node proportions ~ Dir(A,…,A); empty nodes are
//                 repaired by moving single examples from the largest node
//   classes[:K]   DIMAT's split: node i holds classes (i + j·N + ⌊j·g/C⌋) mod C, j < K,
//                 g = gcd(N, C) (= (i + j·N) mod C while that cycle lasts); a class held by
//                 several nodes is split evenly between them. Needs K <= C and N·K >= C.
//                 Without K: class c goes to node c mod N (N ≤ C), or node i holds class
//                 i mod C (N > C). classes:C/N equals the plain form when N divides C.
//   shards        FedAvg: sort by label, cut into 2N equal shards, node i gets 2 seeded ones
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace grapevine::learn {

struct PartitionSpec {
  enum class Kind { kIid, kDirichlet, kClasses, kShards };
  Kind kind = Kind::kIid;
  double alpha = 0.0;        // dirichlet
  int classes_per_node = 0;  // classes; 0 = DIMAT's c mod N without a count
  std::string ToString() const;
};

// The partition forms, one row each: the `--partition` help and ParsePartition's message
// come from this table (tools/flag_sets.h).
struct PartitionForm {
  std::string_view syntax;  // "dirichlet:ALPHA"
  std::string_view summary;
};
std::span<const PartitionForm> AllPartitionForms();

// Validates a spec up front ("iid", "dirichlet:0.5", "classes:2", "classes", "shards").
Result<PartitionSpec> ParsePartition(const std::string& spec);

// The shards of all `nodes` nodes, each sorted ascending.
// Invalid if labels are out of [0, num_classes), nodes < 1, or the data cannot give every
// node a non-empty shard under this spec (the message says why).
Result<std::vector<std::vector<int64_t>>> PartitionAll(std::span<const int32_t> labels,
                                                       int num_classes, const PartitionSpec& spec,
                                                       int nodes, uint64_t seed);

// Node `node`'s shard (sorted ascending), indices into `labels`.
Result<std::vector<int64_t>> PartitionIndices(std::span<const int32_t> labels, int num_classes,
                                              const std::string& spec, int node, int nodes,
                                              uint64_t seed);

}  // namespace grapevine::learn
