#include "merge/weight_matching.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "learn/param_layout.h"
#include "learn/symmetry.h"
#include "merge/assignment.h"
#include "merge/unit_slices.h"

namespace grapevine::merge {
namespace {

Eigen::VectorXf ApplyAllBut(const learn::ParamLayout& layout, const learn::SymmetrySpec& symmetry,
                            const Eigen::VectorXf& params,
                            const std::vector<std::vector<int64_t>>& perms, size_t skip) {
  Eigen::VectorXf out = params;
  for (size_t h = 0; h < symmetry.groups.size(); ++h) {
    if (h != skip) learn::ApplyPermutation(layout, symmetry.groups[h], perms[h], &out);
  }
  return out;
}

double PermValue(const Eigen::MatrixXd& s, const std::vector<int64_t>& perm) {
  double total = 0.0;
  for (size_t u = 0; u < perm.size(); ++u) total += s(static_cast<Eigen::Index>(u), perm[u]);
  return total;
}

}  // namespace

Result<Alignment> MatchByWeights(const learn::ParamLayout& layout,
                                 const learn::SymmetrySpec& symmetry,
                                 const Eigen::VectorXf& self, const Eigen::VectorXf& other,
                                 const WeightMatchingOptions& options) {
  if (self.size() != layout.size() || other.size() != layout.size()) {
    return Status::Invalid("weight matching: parameter vector does not fit the layout");
  }
  const size_t num_groups = symmetry.groups.size();
  Alignment out;
  for (const learn::HiddenGroup& g : symmetry.groups) {
    std::vector<int64_t> id(static_cast<size_t>(g.units));
    std::iota(id.begin(), id.end(), int64_t{0});
    out.perms.push_back(std::move(id));
  }
  std::vector<size_t> order(num_groups);
  std::iota(order.begin(), order.end(), size_t{0});
  std::mt19937_64 rng(options.seed);
  bool changed = true;
  while (changed && out.iterations < options.max_iterations) {
    changed = false;
    ++out.iterations;
    std::shuffle(order.begin(), order.end(), rng);
    for (size_t g : order) {
      const learn::HiddenGroup& group = symmetry.groups[g];
      const Eigen::VectorXf partial = ApplyAllBut(layout, symmetry, other, out.perms, g);
      Eigen::MatrixXf s = Eigen::MatrixXf::Zero(group.units, group.units);
      AddSliceProducts(layout, group, self, partial, std::nullopt, &s);
      const Eigen::MatrixXd sd = s.cast<double>();
      const std::vector<int> best = SolveMaxAssignment(sd);
      std::vector<int64_t> candidate(best.begin(), best.end());
      const double old_value = PermValue(sd, out.perms[g]);
      const double new_value = PermValue(sd, candidate);
      // Strict improvement (relative slack for float noise) so ties never cycle.
      if (new_value > old_value + 1e-9 * std::max(1.0, std::abs(old_value))) {
        out.perms[g] = std::move(candidate);
        changed = true;
      }
    }
  }
  // Scores on the fully aligned neighbour.
  const Eigen::VectorXf aligned = ApplyAllBut(layout, symmetry, other, out.perms, num_groups);
  for (const learn::HiddenGroup& group : symmetry.groups) {
    const Eigen::MatrixXd cos = SliceCosine(layout, group, self, aligned, std::nullopt);
    out.scores.push_back(group.units > 0 ? cos.diagonal().mean() : 0.0);
  }
  return out;
}

Result<MergeResult> WeightMatchingMerge(const learn::ParamLayout& layout,
                                        const learn::SymmetrySpec& symmetry,
                                        const Eigen::VectorXf& self, double self_weight,
                                        std::span<const NeighbourModel> neighbours,
                                        const WeightMatchingOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  GV_RETURN_IF_ERROR(CheckMergeInputs(layout, self, self_weight, neighbours));
  std::vector<Alignment> alignments;
  MergeResult result;
  for (const NeighbourModel& n : neighbours) {
    Alignment a = IdentityAlignment(symmetry);
    if (!n.aligned) {
      GV_ASSIGN_OR_RETURN(a, MatchByWeights(layout, symmetry, self, *n.params, options));
    }
    result.stats.match_scores.push_back(a.scores);
    result.stats.moved.push_back(a.MovedFraction());
    result.stats.iterations.push_back(a.iterations);
    alignments.push_back(std::move(a));
  }
  result.params = MergeAligned(layout, symmetry, self, self_weight, neighbours, alignments);
  result.alignments = std::move(alignments);
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace grapevine::merge
