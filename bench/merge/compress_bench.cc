// Codec throughput (issue 12): encode + decode of the default MLP's parameters
// (mlp:784-256-128-10, 235,146 floats in 6 tensors) per codec, next to memcpy of the
// same floats, in one run. Bytes per second count the input floats (4 bytes each).
// After Google Benchmark's table, main() prints each codec's GB/s and its ratio to
// memcpy (medians with --benchmark_repetitions), and whether q8 and sign reach the
// goal of 1 GB/s of input per core.
//
//   build/release/bench/merge/compress_bench --benchmark_repetitions=5
//       --benchmark_report_aggregates_only=true   (one command line)
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <random>

#include "merge/compress.h"

namespace grapevine::merge {
namespace {

const std::vector<size_t> kTensors{256 * 784, 256, 128 * 256, 128, 10 * 128, 10};

std::vector<float> Params() {
  size_t n = 0;
  for (size_t s : kTensors) n += s;
  std::vector<float> v(n);
  std::mt19937_64 rng(1);
  std::normal_distribution<float> d(0.0f, 0.05f);
  for (auto& x : v) x = d(rng);
  return v;
}

void BM_Memcpy(benchmark::State& state) {
  const std::vector<float> v = Params();
  std::vector<float> out(v.size());
  for (auto _ : state) {
    std::memcpy(out.data(), v.data(), v.size() * 4);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size() * 4));
}
BENCHMARK(BM_Memcpy)->UseRealTime();

void BM_Codec(benchmark::State& state, const char* codec) {
  const CodecSpec spec = *ParseCodec(codec);
  const std::vector<float> v = Params();
  std::vector<float> out(v.size());
  uint64_t round = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    auto packed = EncodeModel(spec, v, kTensors, 7, round);
    const Status st = DecodeModel(spec, packed, kTensors, 7, round, out, false);
    if (!st.ok()) state.SkipWithError(st.message().c_str());
    bytes = packed.size();
    ++round;
    benchmark::DoNotOptimize(out.data());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(v.size() * 4));
  state.counters["ratio_to_float32"] = static_cast<double>(v.size() * 4) / static_cast<double>(bytes);
}
BENCHMARK_CAPTURE(BM_Codec, q8, "q8")->UseRealTime();
BENCHMARK_CAPTURE(BM_Codec, q4, "q4")->UseRealTime();
BENCHMARK_CAPTURE(BM_Codec, sign, "sign")->UseRealTime();
BENCHMARK_CAPTURE(BM_Codec, topk_0.01, "topk:0.01")->UseRealTime();
BENCHMARK_CAPTURE(BM_Codec, randk_0.01, "randk:0.01")->UseRealTime();

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (r.error_occurred) continue;
      const bool aggregate = r.run_type == Run::RT_Aggregate;
      if (aggregate && r.aggregate_name != "median") continue;
      auto it = r.counters.find("bytes_per_second");
      if (it == r.counters.end()) continue;
      std::string name = r.run_name.str();
      if (auto at = name.find("/real_time"); at != std::string::npos) name.erase(at);
      if (aggregate || !medians_.count(name)) (aggregate ? medians_ : singles_)[name] = it->second.value;
      auto ratio = r.counters.find("ratio_to_float32");
      if (ratio != r.counters.end()) ratios_[name] = ratio->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintSummary() const {
    const auto& table = medians_.empty() ? singles_ : medians_;
    const double memcpy_bps = table.count("BM_Memcpy") ? table.at("BM_Memcpy") : 0;
    std::printf("\nencode + decode of 235,146 floats (%s), GB/s of input floats:\n",
                medians_.empty() ? "single runs" : "medians of the repetitions");
    std::printf("  %-22s %8.2f GB/s\n", "memcpy", memcpy_bps / 1e9);
    for (const auto& [name, bps] : table) {
      if (name == "BM_Memcpy") continue;
      const double ratio = ratios_.count(name) ? ratios_.at(name) : 0;
      std::printf("  %-22s %8.2f GB/s   %.3f of memcpy   %6.1fx smaller than float32\n",
                  name.c_str(), bps / 1e9, memcpy_bps > 0 ? bps / memcpy_bps : 0.0, ratio);
    }
    auto goal = [&](const char* name) {
      return table.count(name) && table.at(name) >= 1e9 ? "met" : "NOT met";
    };
    std::printf("  goal q8 >= 1 GB/s -> %s; sign >= 1 GB/s -> %s\n", goal("BM_Codec/q8"),
                goal("BM_Codec/sign"));
  }

 private:
  std::map<std::string, double> medians_, singles_, ratios_;
};

}  // namespace
}  // namespace grapevine::merge

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  grapevine::merge::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintSummary();
  benchmark::Shutdown();
  return 0;
}
