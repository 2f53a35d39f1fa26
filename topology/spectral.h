// Spectral report on a mixing matrix W (DESIGN §5): with the eigenvalues sorted
// descending (λ₁ = 1), ρ = max(|λ₂|, |λₙ|) (for a nonsymmetric W: the second largest
// modulus), spectral gap = 1 − ρ, and consensus rounds = ceil(ln(1/ε) / −ln ρ), the
// gossip rounds that shrink disagreement by ε.
//
// Methods, chosen by size and symmetry:
//   n <= dense_limit, symmetric      Eigen::SelfAdjointEigenSolver (all eigenvalues)
//   n <= dense_limit, nonsymmetric   Eigen::EigenSolver on the general matrix (moduli)
//   larger, symmetric                Spectra Lanczos on W − (1/n)·11ᵀ applied implicitly
//                                    (its largest |eigenvalue| is ρ); when that converges
//                                    too slowly (poor expanders: rings, grids), shift-invert
//                                    Lanczos on the grounded Laplacian I − W (sparse
//                                    Cholesky) for λ₂, and Gershgorin or Lanczos for λₙ
//   larger, nonsymmetric             Spectra Arnoldi, 3 largest moduli
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>

#include "topology/mixing.h"

namespace grapevine::topology {

struct SpectralOptions {
  double epsilon = 1e-3;  // disagreement factor for consensus_rounds
  int dense_limit = 1000;
};

struct SpectralInfo {
  std::optional<double> rho;           // nullopt when the solver did not converge
  std::optional<double> spectral_gap;  // 1 − ρ
  std::optional<int> consensus_rounds; // nullopt when ρ >= 1 or the graph is disconnected
  std::optional<double> lambda2;       // symmetric W only, when computed
  std::optional<double> lambda_n;      // symmetric W only, when computed exactly
  std::string method;                  // e.g. "dense-symmetric", "lanczos", "shift-invert"
  std::string note;                    // why a value is missing, when one is
};

// `connected`: the graph is (strongly) connected. When it is not, λ₂ = 1 for the
// undirected case, so ρ = 1 without solving, and consensus_rounds is null either way.
SpectralInfo AnalyzeSpectrum(const MixingMatrix& mixing, bool connected,
                             const SpectralOptions& options = {});

// ceil(ln(1/ε) / −ln ρ), at least 1; nullopt when ρ >= 1. ρ = 0 gives 1 (one exact round).
std::optional<int> ConsensusRounds(double rho, double epsilon);

}  // namespace grapevine::topology
