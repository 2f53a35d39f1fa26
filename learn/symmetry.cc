#include "learn/symmetry.h"

#include <string>

#include "base/check.h"

namespace grapevine::learn {

Status ValidatePermutation(std::span<const int64_t> perm, int64_t units) {
  if (static_cast<int64_t>(perm.size()) != units) {
    return Status::Invalid("permutation has " + std::to_string(perm.size()) +
                           " entries, expected " + std::to_string(units));
  }
  std::vector<bool> seen(static_cast<size_t>(units), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= units || seen[static_cast<size_t>(p)]) {
      return Status::Invalid("not a permutation: entry " + std::to_string(p));
    }
    seen[static_cast<size_t>(p)] = true;
  }
  return Status::Ok();
}

void ApplyPermutation(const ParamLayout& layout, const HiddenGroup& group,
                      std::span<const int64_t> perm, Eigen::VectorXf* params) {
  GV_CHECK(ValidatePermutation(perm, group.units).ok());
  GV_CHECK(params->size() == layout.size());
  Eigen::MatrixXf old;
  for (const PermutedAxis& move : group.moves) {
    auto view = layout.View(move.tensor, params->data());
    old = view;
    const int64_t b = move.block;
    if (move.axis == Axis::kRows) {
      GV_CHECK(view.rows() == group.units * b);
      for (int64_t u = 0; u < group.units; ++u) {
        view.middleRows(u * b, b) = old.middleRows(perm[static_cast<size_t>(u)] * b, b);
      }
    } else {
      GV_CHECK(view.cols() == group.units * b);
      for (int64_t u = 0; u < group.units; ++u) {
        view.middleCols(u * b, b) = old.middleCols(perm[static_cast<size_t>(u)] * b, b);
      }
    }
  }
}

}  // namespace grapevine::learn
