#include "topology/spectral.h"

#include <Eigen/Dense>
#include <Eigen/SparseCholesky>
#include <Spectra/GenEigsSolver.h>
#include <Spectra/MatOp/SparseGenMatProd.h>
#include <Spectra/MatOp/SparseSymMatProd.h>
#include <Spectra/SymEigsSolver.h>
#include <algorithm>
#include <cmath>
#include <complex>
#include <vector>

namespace grapevine::topology {
namespace {

constexpr double kZero = 1e-12;

using Spectra::CompInfo;
using Spectra::SortRule;
using ColMatrix = Eigen::SparseMatrix<double>;

// y = (W − (1/n)·11ᵀ) x without forming the dense rank-one term. Valid deflation
// because a symmetric stochastic W has 1 as an eigenvector on both sides.
class DeflatedOp {
 public:
  using Scalar = double;
  explicit DeflatedOp(const SparseRowMatrix& w) : w_(w) {}
  Eigen::Index rows() const { return w_.rows(); }
  Eigen::Index cols() const { return w_.cols(); }
  void perform_op(const double* x_in, double* y_out) const {
    Eigen::Map<const Eigen::VectorXd> x(x_in, w_.cols());
    Eigen::Map<Eigen::VectorXd> y(y_out, w_.rows());
    y.noalias() = w_ * x;
    y.array() -= x.mean();
  }

 private:
  const SparseRowMatrix& w_;
};

// y = L⁺ x for L = I − W (connected, symmetric): the inverse on 1^⊥, 0 on 1. Solved by
// grounding the last node (L without its last row and column is positive definite), then
// removing the mean. Its largest eigenvalue is 1/μ₂ with μ₂ = 1 − λ₂, and the rest are
// 1/μ_k, far apart even when the λ_k cluster near 1 — which is what plain Lanczos cannot
// resolve on a long ring.
class GroundedLaplacianInverseOp {
 public:
  using Scalar = double;
  explicit GroundedLaplacianInverseOp(const SparseRowMatrix& w) : n_(w.rows()) {
    ColMatrix l(n_ - 1, n_ - 1);
    std::vector<Eigen::Triplet<double>> triplets;
    for (Eigen::Index i = 0; i + 1 < n_; ++i) {
      triplets.emplace_back(i, i, 1.0);
      for (SparseRowMatrix::InnerIterator it(w, i); it; ++it) {
        if (it.col() + 1 < n_) triplets.emplace_back(i, it.col(), -it.value());
      }
    }
    l.setFromTriplets(triplets.begin(), triplets.end());
    solver_.compute(l);
  }
  bool ok() const { return solver_.info() == Eigen::Success; }
  Eigen::Index rows() const { return n_; }
  Eigen::Index cols() const { return n_; }
  void perform_op(const double* x_in, double* y_out) const {
    Eigen::Map<const Eigen::VectorXd> x(x_in, n_);
    Eigen::Map<Eigen::VectorXd> y(y_out, n_);
    Eigen::VectorXd b = x.head(n_ - 1).array() - x.mean();
    y.head(n_ - 1) = solver_.solve(b);
    y[n_ - 1] = 0;
    y.array() -= y.mean();
  }

 private:
  Eigen::Index n_;
  Eigen::SimplicialLLT<ColMatrix> solver_;
};

void DenseSymmetric(const MixingMatrix& mixing, SpectralInfo* info) {
  Eigen::MatrixXd dense(mixing.w);
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(dense, Eigen::EigenvaluesOnly);
  const Eigen::VectorXd& ev = solver.eigenvalues();  // ascending
  const Eigen::Index n = ev.size();
  info->method = "dense-symmetric";
  info->lambda2 = ev[n - 2];
  info->lambda_n = ev[0];
  info->rho = std::max(std::abs(ev[n - 2]), std::abs(ev[0]));
}

void DenseGeneral(const MixingMatrix& mixing, SpectralInfo* info) {
  Eigen::MatrixXd dense(mixing.w);
  Eigen::EigenSolver<Eigen::MatrixXd> solver(dense, /*computeEigenvectors=*/false);
  info->method = "dense-general";
  if (solver.info() != Eigen::Success) {
    info->note = "eigenvalue iteration did not converge";
    return;
  }
  std::vector<double> moduli;
  for (const std::complex<double>& ev : solver.eigenvalues()) moduli.push_back(std::abs(ev));
  std::sort(moduli.rbegin(), moduli.rend());
  info->rho = moduli[1];
}

// Smallest eigenvalue of W: a Gershgorin bound first (λ >= min_i (2·w_ii − 1)), which
// settles it whenever that bound is already smaller in magnitude than λ₂.
std::optional<double> LambdaNIfMatters(const MixingMatrix& mixing, double lambda2,
                                       bool* exact) {
  double bound = 1.0;
  for (Eigen::Index i = 0; i < mixing.w.rows(); ++i) bound = std::min(bound, 2 * mixing.w.coeff(i, i) - 1);
  *exact = false;
  if (-bound <= std::abs(lambda2)) return bound;
  Spectra::SparseSymMatProd<double, Eigen::Lower, Eigen::RowMajor> op(mixing.w);
  const Eigen::Index n = mixing.w.rows();
  Spectra::SymEigsSolver<decltype(op)> eigs(op, 1, std::min<Eigen::Index>(n, 40));
  eigs.init();
  eigs.compute(SortRule::SmallestAlge, 2000, 1e-10);
  if (eigs.info() != CompInfo::Successful) return std::nullopt;
  *exact = true;
  return eigs.eigenvalues()[0];
}

void SparseSymmetric(const MixingMatrix& mixing, SpectralInfo* info) {
  const Eigen::Index n = mixing.w.rows();
  {
    DeflatedOp op(mixing.w);
    Spectra::SymEigsSolver<DeflatedOp> eigs(op, 2, std::min<Eigen::Index>(n, 40));
    eigs.init();
    eigs.compute(SortRule::LargestMagn, 60, 1e-10);
    if (eigs.info() == CompInfo::Successful) {
      info->method = "lanczos";
      info->rho = std::abs(eigs.eigenvalues()[0]);
      return;
    }
  }
  GroundedLaplacianInverseOp op(mixing.w);
  if (!op.ok()) {
    info->method = "shift-invert";
    info->note = "Cholesky of the grounded Laplacian failed";
    return;
  }
  Spectra::SymEigsSolver<GroundedLaplacianInverseOp> eigs(op, 1, std::min<Eigen::Index>(n, 20));
  eigs.init();
  eigs.compute(SortRule::LargestAlge, 1000, 1e-12);
  info->method = "shift-invert";
  if (eigs.info() != CompInfo::Successful) {
    info->note = "shift-invert Lanczos did not converge";
    return;
  }
  double lambda2 = 1.0 - 1.0 / eigs.eigenvalues()[0];
  info->lambda2 = lambda2;
  bool exact = false;
  std::optional<double> lambda_n = LambdaNIfMatters(mixing, lambda2, &exact);
  if (!lambda_n) {
    info->note = "Lanczos for the smallest eigenvalue did not converge";
    return;
  }
  if (exact) info->lambda_n = *lambda_n;
  info->rho = std::max(std::abs(lambda2), exact ? std::abs(*lambda_n) : 0.0);
}

void SparseGeneral(const MixingMatrix& mixing, SpectralInfo* info) {
  const Eigen::Index n = mixing.w.rows();
  Spectra::SparseGenMatProd<double, Eigen::RowMajor> op(mixing.w);
  Spectra::GenEigsSolver<decltype(op)> eigs(op, 3, std::min<Eigen::Index>(n, 40));
  eigs.init();
  eigs.compute(SortRule::LargestMagn, 2000, 1e-10);
  info->method = "arnoldi";
  if (eigs.info() != CompInfo::Successful) {
    info->note = "Arnoldi iteration did not converge";
    return;
  }
  std::vector<double> moduli;
  for (const std::complex<double>& ev : eigs.eigenvalues()) moduli.push_back(std::abs(ev));
  std::sort(moduli.rbegin(), moduli.rend());
  info->rho = moduli[1];
}

}  // namespace

std::optional<int> ConsensusRounds(double rho, double epsilon) {
  if (!(rho < 1.0 - kZero)) return std::nullopt;
  if (rho <= kZero) return 1;
  double rounds = std::ceil(std::log(1.0 / epsilon) / -std::log(rho));
  return std::max(1, static_cast<int>(rounds));
}

SpectralInfo AnalyzeSpectrum(const MixingMatrix& mixing, bool connected,
                             const SpectralOptions& options) {
  SpectralInfo info;
  const int n = mixing.size();
  if (n == 0) {
    info.note = "empty graph";
    return info;
  }
  const bool symmetric = mixing.properties.symmetric;
  if (n == 1) {
    info.method = "trivial";
    info.rho = 0.0;
  } else if (!connected && symmetric) {
    // Each component keeps its own average: λ₂ = 1.
    info.method = "disconnected";
    info.rho = 1.0;
    info.lambda2 = 1.0;
  } else if (n <= options.dense_limit) {
    if (symmetric) DenseSymmetric(mixing, &info);
    else DenseGeneral(mixing, &info);
  } else {
    if (symmetric) SparseSymmetric(mixing, &info);
    else SparseGeneral(mixing, &info);
  }
  if (!info.rho) return info;
  if (*info.rho < kZero) info.rho = 0.0;
  info.spectral_gap = 1.0 - *info.rho;
  if (connected && n > 1) info.consensus_rounds = ConsensusRounds(*info.rho, options.epsilon);
  if (n == 1) info.consensus_rounds = 0;
  if (!connected) info.note = "graph is disconnected: no consensus across components";
  return info;
}

}  // namespace grapevine::topology
