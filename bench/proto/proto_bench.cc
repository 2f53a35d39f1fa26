// Throughput of the wire path for one big model: encode, decode, content hash,
// frame MAC, frame reassembly. Figures are bytes/s of model payload; see
// docs/protocol.md ("Performance") for the numbers measured on the dev machine.
#include <benchmark/benchmark.h>

#include <random>

#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/envelope_frame.h"
#include "proto/framer.h"
#include "proto/hash.h"

namespace grapevine::proto {
namespace {

constexpr size_t kFloats = size_t{16} << 20;  // 16M parameters = 64 MiB

const std::vector<float>& Params() {
  static const std::vector<float> v = [] {
    std::vector<float> out(kFloats);
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> d(-1.0f, 1.0f);
    for (auto& x : out) x = d(rng);
    return out;
  }();
  return v;
}

Envelope ModelEnvelope() {
  ModelPayload m;
  m.origin = 1;
  m.values = Params();
  m.content_hash = ContentHash(m.values);
  Envelope e;
  e.sender = 1;
  e.body = std::move(m);
  return e;
}

void SetBytes(benchmark::State& state, size_t per_iter) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * per_iter));
}

void BM_Encode(benchmark::State& state) {
  Envelope env = ModelEnvelope();
  for (auto _ : state) {
    EncodedMessage msg = Encode(env);
    benchmark::DoNotOptimize(msg.size());
  }
  SetBytes(state, kFloats * 4);
}
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond);

// Encode(Envelope&&): the values are referenced, not copied (the envelope copy
// made per iteration is excluded from the timing).
void BM_EncodeMoved(benchmark::State& state) {
  Envelope env = ModelEnvelope();
  for (auto _ : state) {
    state.PauseTiming();
    Envelope copy = env;
    state.ResumeTiming();
    EncodedMessage msg = Encode(std::move(copy));
    benchmark::DoNotOptimize(msg.size());
    state.PauseTiming();
    msg = EncodedMessage();  // free the 64 MiB outside the timed region
    state.ResumeTiming();
  }
  SetBytes(state, kFloats * 4);
}
BENCHMARK(BM_EncodeMoved)->Unit(benchmark::kMicrosecond)->Iterations(20);

void BM_Decode(benchmark::State& state) {
  std::vector<uint8_t> flat = Encode(ModelEnvelope()).Flatten();
  for (auto _ : state) {
    auto env = Decode(flat);
    benchmark::DoNotOptimize(env.ok());
  }
  SetBytes(state, kFloats * 4);
}
BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond);

void BM_EncodeDecode(benchmark::State& state) {
  Envelope env = ModelEnvelope();
  for (auto _ : state) {
    std::vector<uint8_t> flat = Encode(env).Flatten();
    auto back = Decode(flat);
    benchmark::DoNotOptimize(back.ok());
  }
  SetBytes(state, kFloats * 4);
}
BENCHMARK(BM_EncodeDecode)->Unit(benchmark::kMillisecond);

void BM_ContentHash(benchmark::State& state) {
  const auto& v = Params();
  for (auto _ : state) benchmark::DoNotOptimize(ContentHash(v));
  SetBytes(state, kFloats * 4);
}
BENCHMARK(BM_ContentHash)->Unit(benchmark::kMillisecond);

void BM_FrameMac(benchmark::State& state) {
  Secret secret{std::vector<uint8_t>(32, 7)};
  FrameAuthenticator auth(secret, RandomNonce(), RandomNonce(), true);
  EncodedMessage msg = Encode(ModelEnvelope());
  auto header = EncodeFrameHeader({kProtocolMajor, 0, kFlagMac, static_cast<uint32_t>(msg.size())});
  for (auto _ : state) benchmark::DoNotOptimize(auth.Sign(header, msg.Pieces()));
  SetBytes(state, msg.size());
}
BENCHMARK(BM_FrameMac)->Unit(benchmark::kMillisecond);

// Reassembly from 64 KiB socket reads, then decode.
void BM_FrameDecoderAndDecode(benchmark::State& state) {
  std::vector<uint8_t> wire = FlattenFrame(Encode(ModelEnvelope()), nullptr);
  std::span<const uint8_t> all(wire);
  for (auto _ : state) {
    FrameDecoder dec(kDefaultMaxFrameBytes);
    for (size_t pos = 0; pos < all.size(); pos += 65536) {
      (void)dec.Feed(all.subspan(pos, std::min<size_t>(65536, all.size() - pos)));
    }
    auto frame = dec.Next();
    auto env = OpenFrame(std::move(*frame));
    benchmark::DoNotOptimize(env.ok());
  }
  SetBytes(state, wire.size());
}
BENCHMARK(BM_FrameDecoderAndDecode)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace grapevine::proto

BENCHMARK_MAIN();
