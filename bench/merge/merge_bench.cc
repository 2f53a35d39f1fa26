// Cost of the merge-side math at the reference size (784-256-128-10 MLP), each next
// to the cost of local training so the share is visible:
//   BM_TrainStep          one Trainer::Step (forward + backward + SGD) at batch 64
//   BM_DimatMerge         one DIMAT merge, 2 neighbours, 2,000 probe samples
//                         (args: probe batch, REPAIR on/off)
//   BM_Repair             REPAIR alone (3 endpoints, 500 samples; arg 0 MLP, 1 CNN)
//   BM_WeightMatchingMerge  same merge aligned by weights (no data)
//   BM_PlainAverage       the `wa` baseline (3 models)
//   BM_CgaAggregate       one CGA projection step, degree 2
//   BM_Assignment         one LAP at 256 / 1024 units
#include <benchmark/benchmark.h>

#include <random>

#include "learn/model.h"
#include "learn/trainer.h"
#include "merge/assignment.h"
#include "merge/average.h"
#include "merge/cga.h"
#include "merge/dimat.h"
#include "merge/repair.h"
#include "merge/weight_matching.h"

namespace {

using namespace grapevine;  // NOLINT(build/namespaces): benchmark file

constexpr char kSpec[] = "mlp:784-256-128-10";
const learn::Shape kShape{1, 28, 28};

std::unique_ptr<learn::Model> MakeMlp() {
  auto model = learn::ParseModel(kSpec, kShape, 10);
  GV_CHECK(model.ok());
  return std::move(model).value();
}

Eigen::MatrixXf Gaussian(Eigen::Index rows, Eigen::Index cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n01;
  Eigen::MatrixXf x(rows, cols);
  for (Eigen::Index k = 0; k < x.size(); ++k) x.data()[k] = n01(rng);
  return x;
}

void BM_TrainStep(benchmark::State& state) {
  learn::Dataset shard;
  shard.x = Gaussian(784, 6400, 1);
  shard.shape = kShape;
  shard.num_classes = 10;
  for (int i = 0; i < 6400; ++i) shard.y.push_back(i % 10);
  learn::TrainerOptions options;
  options.batch_size = 64;
  options.optimizer.momentum = 0.9f;
  auto trainer = learn::Trainer::Create(MakeMlp(), shard, options);
  GV_CHECK(trainer.ok());
  for (auto _ : state) benchmark::DoNotOptimize((*trainer)->Step());
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(BM_TrainStep)->Unit(benchmark::kMillisecond);

void BM_DimatMerge(benchmark::State& state) {
  auto model = MakeMlp();
  const Eigen::VectorXf self = model->InitParams(1), n1 = model->InitParams(2),
                        n2 = model->InitParams(3);
  const Eigen::MatrixXf probe = Gaussian(784, 2000, 4);
  const merge::NeighbourModel nb[] = {{&n1, 1.0 / 3}, {&n2, 1.0 / 3}};
  merge::DimatOptions options;
  options.probe_batch = state.range(0);
  options.repair = state.range(1) != 0 ? merge::RepairMode::kEvery : merge::RepairMode::kOff;
  for (auto _ : state) {
    auto r = merge::DimatMerge(*model, self, 1.0 / 3, nb, probe, options);
    GV_CHECK(r.ok());
    benchmark::DoNotOptimize(r->params.data());
  }
}
BENCHMARK(BM_DimatMerge)
    ->Args({250, 0})
    ->Args({500, 0})
    ->Args({2000, 0})
    ->Args({500, 1})
    ->Unit(benchmark::kMillisecond);

// Arg: 0 = the reference MLP, 1 = the grid's CNN (cnn:c16-p-c32-p-d128).
void BM_Repair(benchmark::State& state) {
  std::unique_ptr<learn::Model> model = MakeMlp();
  if (state.range(0) == 1) {
    auto cnn = learn::ParseModel("cnn:c16-p-c32-p-d128", kShape, 10);
    GV_CHECK(cnn.ok());
    model = std::move(cnn).value();
  }
  const Eigen::VectorXf self = model->InitParams(1), n1 = model->InitParams(2),
                        n2 = model->InitParams(3);
  const Eigen::MatrixXf probe = Gaussian(784, 500, 4);
  const merge::RepairEndpoint ends[] = {
      {&self, 1.0 / 3, nullptr}, {&n1, 1.0 / 3, nullptr}, {&n2, 1.0 / 3, nullptr}};
  const Eigen::VectorXf* xs[] = {&self, &n1, &n2};
  const double w[] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  Eigen::VectorXf merged;
  for (auto _ : state) {
    GV_CHECK(merge::WeightedAverage(xs, w, &merged).ok());
    auto r = merge::Repair(*model, ends, probe, 500, &merged);
    GV_CHECK(r.ok());
    benchmark::DoNotOptimize(merged.data());
  }
}
BENCHMARK(BM_Repair)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_WeightMatchingMerge(benchmark::State& state) {
  auto model = MakeMlp();
  const Eigen::VectorXf self = model->InitParams(1), n1 = model->InitParams(2),
                        n2 = model->InitParams(3);
  const merge::NeighbourModel nb[] = {{&n1, 1.0 / 3}, {&n2, 1.0 / 3}};
  int iterations = 0;
  for (auto _ : state) {
    auto r = merge::WeightMatchingMerge(model->layout(), model->symmetry(), self, 1.0 / 3, nb);
    GV_CHECK(r.ok());
    iterations = r->stats.iterations[0];
    benchmark::DoNotOptimize(r->params.data());
  }
  state.counters["passes"] = iterations;
}
BENCHMARK(BM_WeightMatchingMerge)->Unit(benchmark::kMillisecond);

void BM_PlainAverage(benchmark::State& state) {
  auto model = MakeMlp();
  const Eigen::VectorXf a = model->InitParams(1), b = model->InitParams(2),
                        c = model->InitParams(3);
  const Eigen::VectorXf* xs[] = {&a, &b, &c};
  const double w[] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
  Eigen::VectorXf out;
  for (auto _ : state) {
    GV_CHECK(merge::WeightedAverage(xs, w, &out).ok());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_PlainAverage)->Unit(benchmark::kMicrosecond);

void BM_CgaAggregate(benchmark::State& state) {
  auto model = MakeMlp();
  const int64_t n = model->num_params();
  const Eigen::VectorXf g = Gaussian(n, 1, 1), c1 = Gaussian(n, 1, 2), c2 = Gaussian(n, 1, 3);
  const Eigen::VectorXf* cross[] = {&c1, &c2};
  const double w[] = {1.0 / 3, 1.0 / 3};
  const uint64_t ids[] = {1, 2};
  merge::CgaAggregator agg(merge::TensorRangesOf(model->layout()));
  Eigen::VectorXf out;
  for (auto _ : state) {
    auto r = agg.Aggregate(g, 1.0 / 3, cross, w, ids, &out);
    GV_CHECK(r.ok());
    benchmark::DoNotOptimize(out.data());
  }
}
BENCHMARK(BM_CgaAggregate)->Unit(benchmark::kMillisecond);

void BM_Assignment(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const Eigen::MatrixXd w = Gaussian(n, n, 5).cast<double>();
  for (auto _ : state) {
    auto perm = merge::SolveMaxAssignment(w);
    benchmark::DoNotOptimize(perm.data());
  }
}
BENCHMARK(BM_Assignment)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
