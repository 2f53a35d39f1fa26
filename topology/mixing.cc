#include "topology/mixing.h"

#include <algorithm>
#include <cmath>

#include "topology/number.h"

namespace grapevine::topology {
namespace {

using Triplet = Eigen::Triplet<double>;

// Degree used by the weight rules: adjacency for graphs, in-degree for digraphs.
std::size_t MixingDegree(const Topology& topology, int i) {
  return topology.InNeighbors(i).size();
}

std::vector<Triplet> Metropolis(const Topology& topology) {
  std::vector<Triplet> triplets;
  for (int i = 0; i < topology.num_nodes(); ++i) {
    double self = 1.0;
    for (int j : topology.InNeighbors(i)) {
      double w = MetropolisWeight(MixingDegree(topology, i), MixingDegree(topology, j));
      triplets.emplace_back(i, j, w);
      self -= w;
    }
    triplets.emplace_back(i, i, self);
  }
  return triplets;
}

std::vector<Triplet> Uniform(const Topology& topology) {
  std::vector<Triplet> triplets;
  for (int i = 0; i < topology.num_nodes(); ++i) {
    double w = 1.0 / (1.0 + static_cast<double>(MixingDegree(topology, i)));
    for (int j : topology.InNeighbors(i)) triplets.emplace_back(i, j, w);
    triplets.emplace_back(i, i, w);
  }
  return triplets;
}

// Column j is what node j pushes: 1/(out-degree + 1) to itself and to each out-neighbour.
std::vector<Triplet> PushSum(const Topology& topology) {
  std::vector<Triplet> triplets;
  for (int j = 0; j < topology.num_nodes(); ++j) {
    double s = 1.0 / (1.0 + static_cast<double>(topology.OutNeighbors(j).size()));
    for (int i : topology.OutNeighbors(j)) triplets.emplace_back(i, j, s);
    triplets.emplace_back(j, j, s);
  }
  return triplets;
}

Status FromFile(const Topology& topology, std::vector<Triplet>* triplets,
                std::vector<Issue>* issues) {
  const int n = topology.num_nodes();
  std::vector<Issue> found;
  std::vector<Triplet> off;
  for (const Edge& edge : topology.edges()) {
    if (edge.u == edge.v) continue;  // self-loops are reported by Validate()
    if (!edge.weight) {
      found.push_back({Severity::kError, edge.line,
                       "edge " + topology.node(edge.u).name + " - " + topology.node(edge.v).name +
                           " has no weight (needed by --weights file)"});
      continue;
    }
    if (*edge.weight < 0) continue;  // reported by Validate() as a negative weight
    // Row = receiver: u -> v means v averages in u's model.
    off.emplace_back(edge.v, edge.u, *edge.weight);
    if (!topology.directed()) off.emplace_back(edge.u, edge.v, *edge.weight);
  }
  SparseRowMatrix w(n, n);  // a repeated edge keeps its last weight
  w.setFromTriplets(off.begin(), off.end(), [](double, double b) { return b; });
  for (int i = 0; i < n; ++i) {
    double sum = 0;
    for (SparseRowMatrix::InnerIterator it(w, i); it; ++it) sum += it.value();
    if (sum > 1.0 + 1e-9) {
      found.push_back({Severity::kError, topology.node(i).line,
                       "weights into node " + topology.node(i).name + " sum to " +
                           FormatDouble(sum) +
                           " > 1: no room for its own weight, so W is not stochastic"});
    }
    for (SparseRowMatrix::InnerIterator it(w, i); it; ++it) {
      triplets->emplace_back(i, static_cast<int>(it.col()), it.value());
    }
    triplets->emplace_back(i, i, std::max(0.0, 1.0 - sum));
  }
  if (found.empty()) return Status::Ok();
  std::string message = FormatIssues(topology.source(), found);
  if (issues) issues->insert(issues->end(), found.begin(), found.end());
  return Status::Invalid(message);
}

}  // namespace

Result<WeightsKind> ParseWeightsKind(const std::string& name) {
  if (name == "metropolis") return WeightsKind::kMetropolis;
  if (name == "uniform") return WeightsKind::kUniform;
  if (name == "file") return WeightsKind::kFile;
  if (name == "push-sum") return WeightsKind::kPushSum;
  return Status::Invalid("unknown weights '" + name +
                         "' (one of: metropolis, uniform, file, push-sum)");
}

const char* WeightsKindName(WeightsKind kind) {
  switch (kind) {
    case WeightsKind::kMetropolis: return "metropolis";
    case WeightsKind::kUniform: return "uniform";
    case WeightsKind::kFile: return "file";
    case WeightsKind::kPushSum: return "push-sum";
  }
  return "?";
}

WeightsKind DefaultWeightsKind(const Topology& topology) {
  return topology.directed() ? WeightsKind::kPushSum : WeightsKind::kMetropolis;
}

double MetropolisWeight(std::size_t degree_i, std::size_t degree_j) {
  return 1.0 / (1.0 + static_cast<double>(std::max(degree_i, degree_j)));
}

std::vector<std::pair<int, double>> MixingMatrix::Row(int i) const {
  std::vector<std::pair<int, double>> row;
  for (SparseRowMatrix::InnerIterator it(w, i); it; ++it) {
    row.emplace_back(static_cast<int>(it.col()), it.value());
  }
  return row;
}

MixingProperties CheckProperties(const SparseRowMatrix& w, double tolerance) {
  MixingProperties p;
  const Eigen::Index n = w.rows();
  Eigen::VectorXd rows = Eigen::VectorXd::Zero(n);
  Eigen::VectorXd cols = Eigen::VectorXd::Zero(n);
  p.nonnegative = true;
  for (Eigen::Index i = 0; i < n; ++i) {
    for (SparseRowMatrix::InnerIterator it(w, i); it; ++it) {
      rows[i] += it.value();
      cols[it.col()] += it.value();
      if (it.value() < -tolerance) p.nonnegative = false;
    }
  }
  p.max_row_error = n ? (rows.array() - 1.0).abs().maxCoeff() : 0.0;
  p.max_column_error = n ? (cols.array() - 1.0).abs().maxCoeff() : 0.0;
  p.row_stochastic = p.nonnegative && p.max_row_error <= tolerance;
  p.column_stochastic = p.nonnegative && p.max_column_error <= tolerance;
  SparseRowMatrix diff = w - SparseRowMatrix(w.transpose());
  p.symmetric = diff.nonZeros() == 0 || diff.coeffs().cwiseAbs().maxCoeff() <= tolerance;
  p.doubly_stochastic = p.row_stochastic && p.column_stochastic;
  return p;
}

Result<MixingMatrix> MixingWeights(const Topology& topology, WeightsKind kind,
                                   std::vector<Issue>* issues) {
  MixingMatrix mixing;
  mixing.kind = kind;
  std::vector<Triplet> triplets;
  switch (kind) {
    case WeightsKind::kMetropolis:
      if (topology.directed()) {
        std::string message =
            "metropolis weights do not exist for a digraph (they need w_ij = w_ji, an "
            "undirected graph); use --weights push-sum (what --algo sgp runs on), --weights "
            "uniform or --weights file, or declare it as `graph` with `--` edges";
        if (issues) issues->push_back({Severity::kError, 0, message});
        return Status::Invalid(message);
      }
      triplets = Metropolis(topology);
      break;
    case WeightsKind::kUniform:
      triplets = Uniform(topology);
      break;
    case WeightsKind::kFile:
      GV_RETURN_IF_ERROR(FromFile(topology, &triplets, issues));
      break;
    case WeightsKind::kPushSum:
      triplets = PushSum(topology);
      break;
  }
  mixing.w.resize(topology.num_nodes(), topology.num_nodes());
  mixing.w.setFromTriplets(triplets.begin(), triplets.end());
  mixing.w.makeCompressed();
  mixing.properties = CheckProperties(mixing.w);
  return mixing;
}

}  // namespace grapevine::topology
