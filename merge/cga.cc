#include "merge/cga.h"

#include <Eigen/Cholesky>
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "learn/param_layout.h"

namespace grapevine::merge {
namespace {

double Objective(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& v) {
  return 0.5 * v.dot(a * v) + b.dot(v);
}

// Scale against which KKT residuals are judged: the size of the gradient terms.
double ProblemScale(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& v) {
  const double a_max = a.size() ? a.cwiseAbs().maxCoeff() : 0.0;
  const double b_max = b.size() ? b.cwiseAbs().maxCoeff() : 0.0;
  const double v_max = v.size() ? v.cwiseAbs().maxCoeff() : 0.0;
  return std::max({a_max * std::max(1.0, v_max) * static_cast<double>(v.size()), b_max,
                   std::numeric_limits<double>::min()});
}

bool KktHolds(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& v,
              double lower, double tolerance) {
  const Eigen::VectorXd grad = a * v + b;
  const double g_tol = tolerance * ProblemScale(a, b, v);
  const double v_tol = tolerance * std::max(1.0, std::abs(lower));
  for (Eigen::Index k = 0; k < v.size(); ++k) {
    if (!std::isfinite(v(k)) || v(k) < lower - v_tol) return false;
    const bool at_bound = v(k) <= lower + v_tol;
    if (at_bound ? grad(k) < -g_tol : std::abs(grad(k)) > g_tol) return false;
  }
  return true;
}

// Face enumeration: bit k of `free_mask` set means v_k is free (interior), clear
// means v_k sits on its bound. On each face the minimiser solves a reduced linear
// system; the QP optimum is the KKT point among them. Ties (degenerate faces)
// resolve to the lowest objective, then the lowest mask.
bool SolveExact(const Eigen::MatrixXd& a, const Eigen::VectorXd& b, const CgaOptions& options,
                Eigen::VectorXd* v_out) {
  const int t = static_cast<int>(b.size());
  const double lower = options.lower_bound;
  double best = std::numeric_limits<double>::infinity();
  bool found = false;
  for (uint32_t free_mask = 0; free_mask < (1u << t); ++free_mask) {
    std::vector<int> free_idx;
    for (int k = 0; k < t; ++k) {
      if (free_mask & (1u << k)) free_idx.push_back(k);
    }
    Eigen::VectorXd v = Eigen::VectorXd::Constant(t, lower);
    if (!free_idx.empty()) {
      const int f = static_cast<int>(free_idx.size());
      Eigen::MatrixXd a_ff(f, f);
      Eigen::VectorXd rhs(f);
      for (int r = 0; r < f; ++r) {
        rhs(r) = -b(free_idx[r]);
        for (int k = 0; k < t; ++k) {
          if (!(free_mask & (1u << k))) rhs(r) -= a(free_idx[r], k) * lower;
        }
        for (int c = 0; c < f; ++c) a_ff(r, c) = a(free_idx[r], free_idx[c]);
      }
      const Eigen::VectorXd sol = a_ff.ldlt().solve(rhs);
      for (int r = 0; r < f; ++r) v(free_idx[r]) = sol(r);
    }
    if (!KktHolds(a, b, v, lower, options.tolerance)) continue;
    v = v.cwiseMax(lower);
    const double obj = Objective(a, b, v);
    if (obj < best) {
      best = obj;
      *v_out = v;
      found = true;
    }
  }
  return found;
}

bool SolveGaussSeidel(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                      const CgaOptions& options, Eigen::VectorXd* v_out) {
  const Eigen::Index t = b.size();
  const double lower = options.lower_bound;
  Eigen::VectorXd v = Eigen::VectorXd::Constant(t, lower);
  for (Eigen::Index k = 0; k < t; ++k) {
    if (!(a(k, k) > 0.0)) return false;
  }
  for (int sweep = 0; sweep < options.max_sweeps; ++sweep) {
    double max_change = 0.0;
    for (Eigen::Index k = 0; k < t; ++k) {
      const double grad_k = a.row(k).dot(v) + b(k);
      const double next = std::max(lower, v(k) - grad_k / a(k, k));
      max_change = std::max(max_change, std::abs(next - v(k)));
      v(k) = next;
    }
    if (max_change <= options.tolerance * std::max(1.0, v.cwiseAbs().maxCoeff())) {
      // Convergence of the iterates is not optimality: confirm with KKT, using a
      // looser tolerance since Gauss–Seidel converges linearly.
      if (!KktHolds(a, b, v, lower, std::sqrt(options.tolerance))) return false;
      *v_out = v;
      return true;
    }
  }
  return false;
}

// Rows w_k·cross_k restricted to tensor r, in double; all-zero rows and weight-0
// neighbours are skipped. *rows receives the neighbour index of each kept row.
Eigen::MatrixXd GatherRows(std::span<const Eigen::VectorXf* const> cross,
                           std::span<const double> weights, const TensorRange& r,
                           std::vector<size_t>* rows) {
  Eigen::MatrixXd m(static_cast<Eigen::Index>(cross.size()), r.size);
  for (size_t k = 0; k < cross.size(); ++k) {
    const auto seg = cross[k]->segment(r.offset, r.size);
    if (weights[k] == 0.0 || seg.isZero(0.0)) continue;
    m.row(static_cast<Eigen::Index>(rows->size())) = weights[k] * seg.cast<double>();
    rows->push_back(k);
  }
  m.conservativeResize(static_cast<Eigen::Index>(rows->size()), Eigen::NoChange);
  return m;
}

}  // namespace

Result<CgaQpSolution> SolveCgaQp(const Eigen::MatrixXd& gram, const Eigen::VectorXd& linear,
                                 const CgaOptions& options) {
  GV_CHECK(gram.rows() == gram.cols() && gram.rows() == linear.size());
  if (!gram.allFinite() || !linear.allFinite()) {
    return Status::Invalid("CGA projection: non-finite gradient products");
  }
  const Eigen::MatrixXd a =
      gram + options.epsilon * Eigen::MatrixXd::Identity(gram.rows(), gram.cols());
  CgaQpSolution out;
  if (linear.size() == 0) return out;
  if (linear.size() <= options.max_exact_rows && linear.size() < 31) {
    if (SolveExact(a, linear, options, &out.v)) {
      out.method = CgaMethod::kExact;
      return out;
    }
  }
  if (SolveGaussSeidel(a, linear, options, &out.v)) {
    out.method = CgaMethod::kGaussSeidel;
    return out;
  }
  return Status::Internal("CGA projection: no KKT point found for " +
                          std::to_string(linear.size()) + " rows");
}

bool SatisfiesCgaKkt(const Eigen::MatrixXd& gram, const Eigen::VectorXd& linear,
                     const Eigen::VectorXd& v, const CgaOptions& options) {
  const Eigen::MatrixXd a =
      gram + options.epsilon * Eigen::MatrixXd::Identity(gram.rows(), gram.cols());
  return KktHolds(a, linear, v, options.lower_bound, std::sqrt(options.tolerance));
}

std::vector<TensorRange> TensorRangesOf(const learn::ParamLayout& layout) {
  std::vector<TensorRange> out;
  for (const learn::TensorSpec& t : layout.tensors()) out.push_back({t.offset, t.size()});
  return out;
}

CgaAggregator::CgaAggregator(std::vector<TensorRange> tensors, CgaOptions options)
    : tensors_(std::move(tensors)), options_(options) {
  for (const TensorRange& r : tensors_) {
    GV_CHECK(r.offset >= 0 && r.size > 0);
    total_size_ = std::max(total_size_, r.offset + r.size);
  }
}

Result<CgaStepStats> CgaAggregator::Aggregate(const Eigen::VectorXf& self_grad, double self_weight,
                                              std::span<const Eigen::VectorXf* const> cross,
                                              std::span<const double> cross_weights,
                                              std::span<const uint64_t> neighbour_ids,
                                              Eigen::VectorXf* out) {
  GV_CHECK(out != nullptr);
  if (cross.size() != cross_weights.size() || cross.size() != neighbour_ids.size()) {
    return Status::Invalid("CGA: cross-gradient, weight and id counts differ");
  }
  if (self_grad.size() < total_size_) {
    return Status::Invalid("CGA: self gradient has " + std::to_string(self_grad.size()) +
                           " entries, layout needs " + std::to_string(total_size_));
  }
  for (size_t k = 0; k < cross.size(); ++k) {
    if (cross[k]->size() != self_grad.size()) {
      return Status::Invalid("CGA: cross-gradient from neighbour " +
                             std::to_string(neighbour_ids[k]) + " has the wrong size");
    }
    if (!std::isfinite(cross_weights[k]) || cross_weights[k] < 0.0) {
      return Status::Invalid("CGA: bad mixing weight");
    }
  }
  const size_t num_neighbours = cross.size();
  Eigen::VectorXf result = self_grad;
  CgaStepStats stats;
  std::vector<std::vector<double>*> memory(num_neighbours);
  for (size_t k = 0; k < num_neighbours; ++k) {
    auto& slot = last_v_[neighbour_ids[k]];
    if (slot.size() != tensors_.size()) slot.assign(tensors_.size(), options_.lower_bound);
    memory[k] = &slot;
  }
  std::vector<std::vector<double>> new_v(num_neighbours, std::vector<double>(tensors_.size()));
  for (size_t ti = 0; ti < tensors_.size(); ++ti) {
    const TensorRange& r = tensors_[ti];
    const Eigen::VectorXd g = self_weight * self_grad.segment(r.offset, r.size).cast<double>();
    std::vector<size_t> rows;  // neighbours with a non-zero row for this tensor
    const Eigen::MatrixXd m = GatherRows(cross, cross_weights, r, &rows);
    stats.dropped_rows += static_cast<int>(num_neighbours - rows.size());
    for (size_t k = 0; k < num_neighbours; ++k) new_v[k][ti] = (*memory[k])[ti];
    const Eigen::MatrixXd gram = m * m.transpose();
    const Eigen::VectorXd linear = m * g;
    if (!gram.allFinite() || !linear.allFinite() || !g.allFinite()) {
      return Status::Invalid("CGA: non-finite gradient in tensor " + std::to_string(ti));
    }
    const auto t = static_cast<Eigen::Index>(rows.size());
    Eigen::VectorXd v(t);
    Result<CgaQpSolution> sol = SolveCgaQp(gram, linear, options_);
    if (sol.ok()) {
      v = sol->v;
      ++(sol->method == CgaMethod::kExact ? stats.exact : stats.gauss_seidel);
    } else {
      for (Eigen::Index j = 0; j < t; ++j) v(j) = (*memory[rows[j]])[ti];
      ++stats.reused_previous;
    }
    for (Eigen::Index j = 0; j < t; ++j) new_v[rows[j]][ti] = v(j);
    result.segment(r.offset, r.size) = (g + m.transpose() * v).cast<float>();
    ++stats.tensors;
  }
  for (size_t k = 0; k < num_neighbours; ++k) *memory[k] = std::move(new_v[k]);
  *out = std::move(result);
  return stats;
}

}  // namespace grapevine::merge
