#include "merge/repair.h"

#include <algorithm>
#include <string>

#include "base/check.h"
#include "learn/model.h"

namespace grapevine::merge {
namespace {

// Per-unit mean and variance of rows, merged over batches (Chan et al.).
class UnitMoments {
 public:
  explicit UnitMoments(Eigen::Index units)
      : mean_(Eigen::VectorXd::Zero(units)), m2_(Eigen::VectorXd::Zero(units)) {}

  void Add(const Eigen::MatrixXf& values) {
    const Eigen::Index n = values.cols();
    if (n == 0) return;
    // Two passes, column by column (the storage order), accumulating in double
    // without a double copy of the batch (a conv group's is channels × samples·H·W).
    Eigen::VectorXd batch_mean = Eigen::VectorXd::Zero(values.rows());
    for (Eigen::Index c = 0; c < n; ++c) batch_mean += values.col(c).cast<double>();
    batch_mean /= static_cast<double>(n);
    Eigen::VectorXd batch_m2 = Eigen::VectorXd::Zero(values.rows());
    for (Eigen::Index c = 0; c < n; ++c) {
      batch_m2 += (values.col(c).cast<double>() - batch_mean).cwiseAbs2();
    }
    const double total = static_cast<double>(count_ + n);
    const Eigen::VectorXd delta = batch_mean - mean_;
    mean_ += delta * (static_cast<double>(n) / total);
    m2_ += batch_m2 + delta.cwiseAbs2() * (static_cast<double>(count_) * n / total);
    count_ += n;
  }

  const Eigen::VectorXd& mean() const { return mean_; }
  Eigen::VectorXd stddev() const {
    return (m2_ / static_cast<double>(std::max<int64_t>(count_, 1))).cwiseSqrt();
  }

 private:
  Eigen::VectorXd mean_, m2_;
  int64_t count_ = 0;
};

// Moments of every group's pre-activations (groups.size() entries), or of group
// `only` alone when only >= 0 (the pass then stops at that group).
std::vector<UnitMoments> Measure(learn::Model& model, const Eigen::VectorXf& params,
                                 const learn::ConstMatrixRef& probe, int64_t probe_batch,
                                 int only) {
  const auto& groups = model.symmetry().groups;
  std::vector<UnitMoments> out;
  for (const learn::HiddenGroup& g : groups) out.emplace_back(g.units);
  for (Eigen::Index start = 0; start < probe.cols(); start += probe_batch) {
    const Eigen::Index width = std::min<Eigen::Index>(probe_batch, probe.cols() - start);
    const std::vector<Eigen::MatrixXf> pre =
        model.HiddenPreActivations(params, probe.middleCols(start, width), only);
    for (size_t g = 0; g < pre.size(); ++g) {
      if (only < 0 || static_cast<int>(g) == only) out[g].Add(pre[g]);
    }
  }
  return out;
}

}  // namespace

Result<RepairStats> Repair(learn::Model& model, std::span<const RepairEndpoint> endpoints,
                           const learn::ConstMatrixRef& probe, int64_t probe_batch,
                           Eigen::VectorXf* merged) {
  const auto& groups = model.symmetry().groups;
  const auto& layout = model.layout();
  if (probe.rows() != model.input_shape().size()) {
    return Status::Invalid("REPAIR: probe has " + std::to_string(probe.rows()) +
                           " features, model expects " +
                           std::to_string(model.input_shape().size()));
  }
  if (probe.cols() < 2) return Status::Invalid("REPAIR: need at least 2 probe samples");
  if (probe_batch < 1) return Status::Invalid("REPAIR: probe_batch must be >= 1");
  if (endpoints.empty()) return Status::Invalid("REPAIR: no endpoints");
  if (merged->size() != model.num_params()) {
    return Status::Invalid("REPAIR: merged vector does not fit the model");
  }
  double total_weight = 0.0;
  for (const RepairEndpoint& e : endpoints) {
    if (e.params == nullptr || e.params->size() != model.num_params()) {
      return Status::Invalid("REPAIR: endpoint does not fit the model");
    }
    if (!(e.weight > 0.0)) return Status::Invalid("REPAIR: endpoint weights must be > 0");
    if (e.alignment != nullptr) {
      if (e.alignment->perms.size() != groups.size()) {
        return Status::Invalid("REPAIR: alignment has the wrong number of groups");
      }
      for (size_t g = 0; g < groups.size(); ++g) {
        GV_RETURN_IF_ERROR(learn::ValidatePermutation(e.alignment->perms[g], groups[g].units));
      }
    }
    total_weight += e.weight;
  }

  // Targets: merge-weighted endpoint statistics in self's unit order.
  std::vector<Eigen::VectorXd> target_mean, target_std;
  for (const learn::HiddenGroup& g : groups) {
    target_mean.push_back(Eigen::VectorXd::Zero(g.units));
    target_std.push_back(Eigen::VectorXd::Zero(g.units));
  }
  for (const RepairEndpoint& e : endpoints) {
    const std::vector<UnitMoments> m = Measure(model, *e.params, probe, probe_batch, -1);
    const double w = e.weight / total_weight;
    for (size_t g = 0; g < groups.size(); ++g) {
      const Eigen::VectorXd mean = m[g].mean();
      const Eigen::VectorXd stddev = m[g].stddev();
      for (int64_t u = 0; u < groups[g].units; ++u) {
        const int64_t src = e.alignment == nullptr ? u : e.alignment->perms[g][u];
        target_mean[g][u] += w * mean[src];
        target_std[g][u] += w * stddev[src];
      }
    }
  }

  RepairStats stats;
  for (size_t g = 0; g < groups.size(); ++g) {
    const std::vector<UnitMoments> m =
        Measure(model, *merged, probe, probe_batch, static_cast<int>(g));
    const Eigen::VectorXd mean = m[g].mean();
    const Eigen::VectorXd stddev = m[g].stddev();
    // The producer: the group's first two moves are its weight rows and its bias.
    GV_CHECK(groups[g].moves.size() >= 2);
    const learn::TensorSpec& w = layout.tensor(groups[g].moves[0].tensor);
    const learn::TensorSpec& b = layout.tensor(groups[g].moves[1].tensor);
    GV_CHECK(groups[g].moves[0].axis == learn::Axis::kRows && w.rows == groups[g].units);
    GV_CHECK(groups[g].moves[1].axis == learn::Axis::kRows && b.rows == groups[g].units &&
             b.cols == 1);
    Eigen::Map<Eigen::MatrixXf> weight(merged->data() + w.offset, w.rows, w.cols);
    Eigen::Map<Eigen::VectorXf> bias(merged->data() + b.offset, b.rows);
    double scale_sum = 0.0;
    for (int64_t u = 0; u < groups[g].units; ++u) {
      double s = 1.0;
      if (stddev[u] > 1e-6) {
        s = std::clamp(target_std[g][u] / stddev[u], 1.0 / kMaxRepairScale, kMaxRepairScale);
      }
      weight.row(u) *= static_cast<float>(s);
      bias[u] = static_cast<float>(s * (bias[u] - mean[u]) + target_mean[g][u]);
      scale_sum += s;
    }
    stats.mean_scale.push_back(groups[g].units > 0 ? scale_sum / groups[g].units : 1.0);
  }
  return stats;
}

}  // namespace grapevine::merge
