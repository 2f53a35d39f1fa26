// Exact linear assignment: the permutation that maximises the total weight of a
// square matrix. DIMAT and weight matching call it once per hidden group.
//
// Algorithm: shortest augmenting paths with dual potentials (Hungarian method in
// the Jonker–Volgenant formulation), O(n³) worst case, one row added per phase.
// See docs/merge.md for the measured comparison with Boost.Graph's
// maximum_weighted_matching and why this one was kept.
//
// Input sanitation (documented contract, tested):
//   * NaN entries are treated as "worse than every finite entry": they are replaced
//     by (smallest finite entry − 1 − spread). A row of NaNs therefore still gets a
//     column, just the one nobody else wants.
//   * +inf / −inf are clamped to (largest finite + 1 + spread) / (smallest finite
//     − 1 − spread). A matrix with no finite entry is treated as all zeros.
//
// Tie-breaking (deterministic, machine independent for a given input): rows are
// inserted in increasing index; within a phase the Dijkstra scan visits columns in
// increasing index and takes the FIRST column with the strictly smallest reduced
// distance. Consequence: a constant matrix gives the identity, and among
// equal-valued optima the result depends only on the matrix, never on timing or
// memory addresses.
//
// Thread-safety: pure functions, no shared state.
#pragma once

#include <Eigen/Core>
#include <vector>

namespace grapevine::merge {

namespace internal {
std::vector<int> SolveMaxAssignmentImpl(const Eigen::MatrixXd& weight);
}  // namespace internal

// perm[row] = column, a permutation of 0..n-1 maximising Σ_row weight(row, perm[row]).
// Accepts any dense float or double matrix expression; the solve runs in double.
// REQUIRES: weight is square. An empty matrix gives an empty permutation.
template <typename Derived>
std::vector<int> SolveMaxAssignment(const Eigen::MatrixBase<Derived>& weight) {
  return internal::SolveMaxAssignmentImpl(weight.template cast<double>());
}

// Σ_row weight(row, perm[row]) with the same NaN/inf sanitation as the solver.
double AssignmentValue(const Eigen::MatrixXd& weight, const std::vector<int>& perm);

// Replaces NaN/inf as described above; exposed for tests and for callers that want
// to inspect exactly what the solver optimised.
Eigen::MatrixXd SanitizeWeights(const Eigen::MatrixXd& weight);

// True when perm is a permutation of 0..n-1.
bool IsPermutation(const std::vector<int>& perm, int n);

}  // namespace grapevine::merge
