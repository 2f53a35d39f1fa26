// Permutation symmetry of a model: which parameter entries move together when the
// hidden units of one layer are renamed. Consumed by merge/ (DIMAT activation
// matching, weight matching) to align any model, not just an MLP.
//
// A HiddenGroup is one alignment point: the units of one hidden layer (the neurons of
// a hidden dense layer, or the channels of a conv layer). Renaming its units permutes
// the producing layer's weight rows and bias, and the consuming layer's input columns
// (k·k columns per channel for a following conv, H·W columns per channel across a
// flatten, one column per unit for a following dense layer). The output layer is
// never a group. groups[g] corresponds to Model::HiddenActivations()[g].
//
// Value types; thread-safe when const.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "learn/param_layout.h"

namespace grapevine::learn {

enum class Axis { kRows, kCols };

// Unit u owns entries [u·block, (u+1)·block) along `axis` of layout tensor `tensor`.
struct PermutedAxis {
  int tensor = 0;
  Axis axis = Axis::kRows;
  int64_t block = 1;
};

struct HiddenGroup {
  std::string name;  // e.g. "dense1", "conv2"
  int64_t units = 0;
  std::vector<PermutedAxis> moves;
};

struct SymmetrySpec {
  std::vector<HiddenGroup> groups;
};

// Renames units: new unit u := old unit perm[u], on every tensor axis the group moves.
// A model with all its groups permuted consistently computes the same function.
// REQUIRES: perm is a permutation of [0, group.units); params has layout.size() entries.
void ApplyPermutation(const ParamLayout& layout, const HiddenGroup& group,
                      std::span<const int64_t> perm, Eigen::VectorXf* params);

// Invalid unless perm is a permutation of [0, units) (for checking peer input).
Status ValidatePermutation(std::span<const int64_t> perm, int64_t units);

}  // namespace grapevine::learn
