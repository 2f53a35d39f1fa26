#include "merge/dimat.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "learn/model.h"
#include "merge/activation_stats.h"
#include "merge/assignment.h"
#include "merge/repair.h"
#include "merge/unit_slices.h"

namespace grapevine::merge {
namespace {

// Aligns every neighbour in `others` to self in one sweep over the probe data.
Result<std::vector<Alignment>> MatchAll(learn::Model& model, const Eigen::VectorXf& self,
                                        std::span<const Eigen::VectorXf* const> others,
                                        const learn::ConstMatrixRef& probe,
                                        const DimatOptions& options) {
  if (probe.rows() != model.input_shape().size()) {
    return Status::Invalid("DIMAT: probe has " + std::to_string(probe.rows()) +
                           " features, model expects " +
                           std::to_string(model.input_shape().size()));
  }
  if (probe.cols() < 2) return Status::Invalid("DIMAT: need at least 2 probe samples");
  if (options.probe_batch < 1) return Status::Invalid("DIMAT: probe_batch must be >= 1");
  if (!(options.weight_prior >= 0.0)) return Status::Invalid("DIMAT: weight_prior must be >= 0");
  const auto& groups = model.symmetry().groups;
  std::vector<std::vector<CorrelationAccumulator>> acc(others.size());
  for (auto& per_group : acc) {
    for (const learn::HiddenGroup& g : groups) {
      per_group.emplace_back(static_cast<int>(g.units), static_cast<int>(g.units));
    }
  }
  for (Eigen::Index start = 0; start < probe.cols(); start += options.probe_batch) {
    const Eigen::Index width = std::min<Eigen::Index>(options.probe_batch, probe.cols() - start);
    const auto batch = probe.middleCols(start, width);
    const std::vector<Eigen::MatrixXf> mine = model.HiddenActivations(self, batch);
    GV_CHECK(mine.size() == groups.size());
    for (size_t j = 0; j < others.size(); ++j) {
      const std::vector<Eigen::MatrixXf> theirs = model.HiddenActivations(*others[j], batch);
      for (size_t g = 0; g < groups.size(); ++g) acc[j][g].Add(mine[g], theirs[g]);
    }
  }
  std::vector<Alignment> out(others.size());
  for (size_t j = 0; j < others.size(); ++j) {
    // Groups in order, so the tie-break sees group g's incoming weights with the
    // columns already aligned by group g−1.
    Eigen::VectorXf aligned = *others[j];
    for (size_t g = 0; g < groups.size(); ++g) {
      const Eigen::MatrixXd corr = acc[j][g].Correlation();
      const Eigen::MatrixXd tie =
          SliceCosine(model.layout(), groups[g], self, aligned, learn::Axis::kRows);
      const std::vector<int> perm =
          SolveMaxAssignment(corr + (kDeadUnitTieBreak + options.weight_prior) * tie);
      std::vector<int64_t> perm64(perm.begin(), perm.end());
      learn::ApplyPermutation(model.layout(), groups[g], perm64, &aligned);
      out[j].perms.push_back(std::move(perm64));
      out[j].scores.push_back(perm.empty() ? 0.0
                                           : AssignmentValue(corr, perm) /
                                                 static_cast<double>(perm.size()));
    }
  }
  return out;
}

}  // namespace

Result<Alignment> MatchByActivations(learn::Model& model, const Eigen::VectorXf& self,
                                     const Eigen::VectorXf& other,
                                     const learn::ConstMatrixRef& probe,
                                     const DimatOptions& options) {
  if (self.size() != model.num_params() || other.size() != model.num_params()) {
    return Status::Invalid("DIMAT: parameter vector does not fit the model");
  }
  const Eigen::VectorXf* others[] = {&other};
  GV_ASSIGN_OR_RETURN(std::vector<Alignment> all, MatchAll(model, self, others, probe, options));
  return std::move(all[0]);
}

Result<RepairMode> ParseRepairMode(std::string_view text) {
  if (text == "off") return RepairMode::kOff;
  if (text == "matched") return RepairMode::kMatched;
  if (text == "every") return RepairMode::kEvery;
  return Status::Invalid("--dimat-repair: expected off, matched or every, not '" +
                         std::string(text) + "'");
}

Result<MergeResult> DimatMerge(learn::Model& model, const Eigen::VectorXf& self,
                               double self_weight, std::span<const NeighbourModel> neighbours,
                               const learn::ConstMatrixRef& probe, const DimatOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  GV_RETURN_IF_ERROR(CheckMergeInputs(model.layout(), self, self_weight, neighbours));
  std::vector<const Eigen::VectorXf*> active;
  for (const NeighbourModel& n : neighbours) {
    if (n.weight > 0.0 && !n.aligned) active.push_back(n.params);
  }
  std::vector<Alignment> matched;
  if (!active.empty()) {
    GV_ASSIGN_OR_RETURN(matched, MatchAll(model, self, active, probe, options));
  }
  std::vector<Alignment> alignments;
  size_t next = 0;
  for (const NeighbourModel& n : neighbours) {
    alignments.push_back(n.weight > 0.0 && !n.aligned ? std::move(matched[next++])
                                                      : IdentityAlignment(model.symmetry()));
  }
  MergeResult result;
  result.params =
      MergeAligned(model.layout(), model.symmetry(), self, self_weight, neighbours, alignments);
  const bool repair = options.repair == RepairMode::kEvery ||
                      (options.repair == RepairMode::kMatched && !active.empty());
  if (repair) {
    std::vector<RepairEndpoint> endpoints;
    if (self_weight > 0.0) endpoints.push_back({&self, self_weight, nullptr});
    for (size_t j = 0; j < neighbours.size(); ++j) {
      if (neighbours[j].weight > 0.0) {
        endpoints.push_back({neighbours[j].params, neighbours[j].weight, &alignments[j]});
      }
    }
    const Eigen::Index n = std::min<Eigen::Index>(probe.cols(), options.repair_samples);
    GV_ASSIGN_OR_RETURN(RepairStats repaired, Repair(model, endpoints, probe.leftCols(n),
                                                     options.probe_batch, &result.params));
    result.stats.repair_scale = std::move(repaired.mean_scale);
  }
  for (const Alignment& a : alignments) {
    result.stats.match_scores.push_back(a.scores);
    result.stats.moved.push_back(a.MovedFraction());
  }
  result.alignments = std::move(alignments);
  result.stats.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace grapevine::merge
