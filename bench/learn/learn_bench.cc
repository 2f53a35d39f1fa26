// Training-engine throughput: Trainer::Step() samples/s for the MLP and the CNN on one
// thread, forward+backward alone, and the fp32 GEMM FLOP rate Eigen reaches here (the
// yardstick for "fraction of peak"). Data is random (throughput does not depend on it).
// The *Compact variants train on the one-byte-per-pixel storage the agents use for IDX
// images (decoded through a table at batch assembly); the plain ones on dense floats.
//
//   build/<dir>/bench/learn/learn_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <random>

#include "learn/model.h"
#include "learn/trainer.h"

namespace grapevine::learn {
namespace {

Dataset RandomDataset(Shape shape, int64_t n, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist;
  Dataset d;
  d.shape = shape;
  d.num_classes = classes;
  d.x.resize(shape.size(), n);
  for (int64_t i = 0; i < d.x.size(); ++i) d.x.data()[i] = dist(rng);
  d.y.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) d.y[static_cast<size_t>(i)] = static_cast<int32_t>(i % classes);
  return d;
}

// The same kind of data stored as bytes + a 256-entry table (learn/dataset.h).
Dataset RandomCompactDataset(Shape shape, int64_t n, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Dataset d;
  d.compact = true;
  d.shape = shape;
  d.num_classes = classes;
  for (int v = 0; v < 256; ++v) d.decode[static_cast<size_t>(v)] = (v / 255.0f - 0.286f) / 0.353f;
  d.codes.resize(static_cast<size_t>(shape.size() * n));
  for (auto& c : d.codes) c = static_cast<uint8_t>(rng() % 256);
  d.y.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) d.y[static_cast<size_t>(i)] = static_cast<int32_t>(i % classes);
  return d;
}

void RunTrainerSteps(benchmark::State& state, const std::string& spec, const std::string& order,
                     bool compact = false) {
  Eigen::setNbThreads(1);
  const Shape shape{1, 28, 28};
  auto model = ParseModel(spec, shape, 10);
  TrainerOptions options;
  options.batch_size = state.range(0);
  options.optimizer.momentum = 0.9f;
  options.order = order;
  auto trainer = Trainer::Create(
      std::move(model).value(),
      compact ? RandomCompactDataset(shape, 4096, 10, 1) : RandomDataset(shape, 4096, 10, 1),
      options);
  if (!trainer.ok()) {
    state.SkipWithError(trainer.status().ToString().c_str());
    return;
  }
  Trainer& t = **trainer;
  for (int i = 0; i < 5; ++i) t.Step();  // warm the workspaces
  const int64_t before = t.samples_seen();
  for (auto _ : state) benchmark::DoNotOptimize(t.Step());
  const int64_t samples = t.samples_seen() - before;
  state.SetItemsProcessed(samples);
  // Nominal training FLOPs: 6 per parameter per sample (fwd 2, bwd 4) for dense layers.
  state.counters["GFLOP/s(6P)"] = benchmark::Counter(
      6.0 * static_cast<double>(t.model().num_params()) * static_cast<double>(samples) / 1e9,
      benchmark::Counter::kIsRate);
}

void BM_MlpStep(benchmark::State& state) { RunTrainerSteps(state, "mlp:784-256-128-10", "rr"); }
BENCHMARK(BM_MlpStep)->Arg(64)->Arg(128)->Arg(256)->Unit(benchmark::kMicrosecond);

void BM_MlpStepCompact(benchmark::State& state) {
  RunTrainerSteps(state, "mlp:784-256-128-10", "rr", /*compact=*/true);
}
BENCHMARK(BM_MlpStepCompact)->Arg(64)->Arg(128)->Arg(256)->Unit(benchmark::kMicrosecond);

void BM_MlpStepGrab(benchmark::State& state) {
  RunTrainerSteps(state, "mlp:784-256-128-10", "grab");
}
BENCHMARK(BM_MlpStepGrab)->Arg(64)->Unit(benchmark::kMicrosecond);

void BM_CnnStep(benchmark::State& state) { RunTrainerSteps(state, "cnn:c16-p-c32-p-d128", "rr"); }
BENCHMARK(BM_CnnStep)->Arg(64)->Unit(benchmark::kMillisecond);

void BM_CnnStepCompact(benchmark::State& state) {
  RunTrainerSteps(state, "cnn:c16-p-c32-p-d128", "rr", /*compact=*/true);
}
BENCHMARK(BM_CnnStepCompact)->Arg(64)->Unit(benchmark::kMillisecond);

// Forward + backward only (no optimizer, no batch gather).
void BM_MlpForwardBackward(benchmark::State& state) {
  Eigen::setNbThreads(1);
  auto model = std::move(ParseModel("mlp:784-256-128-10", Shape{1, 28, 28}, 10)).value();
  const int64_t batch = state.range(0);
  const Dataset data = RandomDataset(Shape{1, 28, 28}, batch, 10, 2);
  const Eigen::VectorXf params = model->InitParams(1);
  Eigen::VectorXf grad(params.size());
  for (auto _ : state) {
    benchmark::DoNotOptimize(model->LossAndGradient(params, data.x, data.y, grad.data()));
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_MlpForwardBackward)->Arg(64)->Unit(benchmark::kMicrosecond);

// Batch assembly alone: 64 random examples of 784 features copied (dense) or decoded
// through the table (compact) into a features × 64 matrix, as Trainer::Step() does.
void BM_GatherBatch(benchmark::State& state) {
  const Shape shape{1, 28, 28};
  const bool compact = state.range(0) != 0;
  const Dataset d = compact ? RandomCompactDataset(shape, 4096, 10, 3) : RandomDataset(shape, 4096, 10, 3);
  Eigen::MatrixXf batch(shape.size(), 64);
  std::mt19937_64 rng(5);
  std::vector<int64_t> pick(64);
  for (auto _ : state) {
    for (auto& p : pick) p = static_cast<int64_t>(rng() % 4096);
    for (int64_t i = 0; i < 64; ++i) d.CopyExample(pick[static_cast<size_t>(i)], batch.col(i).data());
    benchmark::DoNotOptimize(batch.data());
  }
  state.SetItemsProcessed(state.iterations() * 64);
  state.SetLabel(compact ? "compact" : "dense");
}
BENCHMARK(BM_GatherBatch)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

// C(m×n) = A(m×k) · B(k×n), fp32, one thread: 2·m·n·k FLOPs.
void BM_Gemm(benchmark::State& state) {
  Eigen::setNbThreads(1);
  const int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  Eigen::MatrixXf a = Eigen::MatrixXf::Random(m, k);
  Eigen::MatrixXf b = Eigen::MatrixXf::Random(k, n);
  Eigen::MatrixXf c(m, n);
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::DoNotOptimize(c.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * static_cast<double>(m * n * k) * static_cast<double>(state.iterations()) / 1e9,
      benchmark::Counter::kIsRate);
}
// The MLP's first-layer forward shape, and a large square GEMM (peak reference).
BENCHMARK(BM_Gemm)->Args({256, 784, 64})->Args({512, 512, 512})->Args({1024, 1024, 1024})
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace grapevine::learn

BENCHMARK_MAIN();
