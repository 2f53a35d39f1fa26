// Time to analyse large topologies, stage by stage: generation, diameter (n BFS runs),
// mixing weights, spectrum (dense Eigen up to 1000 nodes, Spectra above). Figures are
// quoted in docs/topology.md.
//
//   build/<dir>/bench/topology/topology_bench --benchmark_filter=10000
#include <benchmark/benchmark.h>

#include "topology/analyze.h"
#include "topology/generators.h"
#include "topology/graph_metrics.h"
#include "topology/spectral.h"

namespace grapevine::topology {
namespace {

Topology Make(GraphKind kind, int n) {
  GeneratorOptions options;
  options.seed = 3;
  options.degree = 4;
  return Generate(kind, n, options).value();
}

void BM_Generate(benchmark::State& state, GraphKind kind) {
  for (auto _ : state) benchmark::DoNotOptimize(Make(kind, static_cast<int>(state.range(0))));
}

void BM_Diameter(benchmark::State& state, GraphKind kind) {
  Topology t = Make(kind, static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(Diameter(t));
}

void BM_Spectrum(benchmark::State& state, GraphKind kind) {
  Topology t = Make(kind, static_cast<int>(state.range(0)));
  MixingMatrix m = MixingWeights(t, WeightsKind::kMetropolis).value();
  SpectralInfo info;
  for (auto _ : state) {
    info = AnalyzeSpectrum(m, true);
    benchmark::DoNotOptimize(info);
  }
  state.counters["rho"] = info.rho.value_or(-1);
  state.SetLabel(info.method);
}

void BM_Analyze(benchmark::State& state, GraphKind kind) {
  Topology t = Make(kind, static_cast<int>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(Analyze(t, WeightsKind::kMetropolis));
}

#define GV_TOPOLOGY_BENCH(fn, kind)                                                     \
  BENCHMARK_CAPTURE(fn, kind, GraphKind::kind)                                          \
      ->Arg(1000)->Arg(2000)->Arg(10000)->Unit(benchmark::kMillisecond)->Iterations(1)

GV_TOPOLOGY_BENCH(BM_Generate, kRing);
GV_TOPOLOGY_BENCH(BM_Generate, kRandomRegular);
GV_TOPOLOGY_BENCH(BM_Diameter, kRing);
GV_TOPOLOGY_BENCH(BM_Diameter, kRandomRegular);
GV_TOPOLOGY_BENCH(BM_Spectrum, kRing);
GV_TOPOLOGY_BENCH(BM_Spectrum, kTorus);
GV_TOPOLOGY_BENCH(BM_Spectrum, kRandomRegular);
GV_TOPOLOGY_BENCH(BM_Spectrum, kSmallWorld);
GV_TOPOLOGY_BENCH(BM_Analyze, kRing);
GV_TOPOLOGY_BENCH(BM_Analyze, kRandomRegular);

}  // namespace
}  // namespace grapevine::topology

BENCHMARK_MAIN();
