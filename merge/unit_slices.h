// Similarity of hidden units by their weights: the slice a unit owns in each tensor
// its group moves (`block` rows for kRows, `block` columns for kCols; see
// learn/symmetry.h). Weight matching builds its LAP cost from these products; DIMAT
// uses the producer-side cosine as a tie-breaker for units whose activations carry
// no information (dead ReLUs).
// Thread-safety: pure functions.
#pragma once

#include <Eigen/Core>
#include <optional>

#include "learn/param_layout.h"
#include "learn/symmetry.h"

namespace grapevine::merge {

// s (units × units) += Σ over the group's moves (only those on `only_axis` when set)
// of ⟨a's slice of unit u, b's slice of unit v⟩. Float GEMMs.
void AddSliceProducts(const learn::ParamLayout& layout, const learn::HiddenGroup& group,
                      const Eigen::VectorXf& a, const Eigen::VectorXf& b,
                      std::optional<learn::Axis> only_axis, Eigen::MatrixXf* s);

// Cosine similarity matrix of the units' slices (restricted to `only_axis` when set);
// 0 where either slice is all zero.
Eigen::MatrixXd SliceCosine(const learn::ParamLayout& layout, const learn::HiddenGroup& group,
                            const Eigen::VectorXf& a, const Eigen::VectorXf& b,
                            std::optional<learn::Axis> only_axis);

}  // namespace grapevine::merge
