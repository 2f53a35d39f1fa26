// Codecs for compressed gossip (issue 12; ALGORITHMS.md §4–§5): lossy encodings of a
// float vector, applied per tensor of a model's layout, with exact encoded sizes.
//
//   none       raw float32 (4n bytes)
//   q8, q4     QSGD-style stochastic rounding to 2·127+1 / 2·7+1 levels per block of 256
//              values, one float32 scale (the block's max |v|) per block; unbiased
//   sign       (‖v‖₁/n)·sign(v): one float32 scale, then the signs bit-packed
//   topk:F     the k = round(F·n) largest magnitudes: float32 scale (max |v| kept), k
//              float16 values of v/scale, indices Elias–Fano coded (a delta code whose
//              size depends only on n and k)
//   randk:F    k entries chosen by a PRNG from (seed, round, tensor) — both ends derive
//              them, so only the k float32 values travel; not rescaled, so contractive
//              with δ = k/n (E[C(v)] = (k/n)·v)
// Byte formats and measured speeds: docs/compression.md. Randomness (q8, q4 rounding and
// randk's choice) is a pure function of CodecContext, so a receiver decodes exactly what
// the sender's own decode gives.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace grapevine::merge {

enum class CodecKind : uint8_t { kNone = 0, kQ8 = 1, kQ4 = 2, kSign = 3, kTopK = 4, kRandK = 5 };

struct CodecSpec {
  CodecKind kind = CodecKind::kNone;
  double fraction = 1.0;  // topk, randk: fraction of the entries kept, in (0, 1]
  std::string ToString() const;  // "none" "q8" "q4" "sign" "topk:0.01" "randk:0.05"
  bool stochastic() const;       // q8 q4 randk: the result depends on the context
  bool operator==(const CodecSpec&) const = default;
};

// Parses a --compress value; the error names the text and lists CodecFormsHelp().
Result<CodecSpec> ParseCodec(std::string_view text);
std::string CodecFormsHelp();  // "none|q8|q4|sign|topk:F|randk:F"

// Where a tensor's randomness comes from: the sender's seed, the exchange tick, and the
// tensor's index in the layout.
struct CodecContext {
  uint64_t seed = 0;
  uint64_t round = 0;
  uint32_t tensor = 0;
};

// Entries kept by topk/randk of n values: 0 for n = 0, else clamp(round(F·n), 1, n).
size_t KeptEntries(const CodecSpec& spec, size_t n);
// Exact bytes Encode writes for n values.
size_t EncodedSize(const CodecSpec& spec, size_t n);
// Appends the encoding of v to *out; returns the bytes appended (= EncodedSize).
size_t Encode(const CodecSpec& spec, std::span<const float> v, const CodecContext& ctx,
              std::vector<uint8_t>* out);
// Decodes one tensor of out.size() values from exactly EncodedSize bytes: out = C(v), or
// out += C(v) with `accumulate`. Invalid input (wrong length, NaN/Inf scale or value, a
// q8 level of −128, a q4 nibble of 15, top-k indices out of range or not increasing)
// gives an error naming the problem; `out` is then unchanged (everything is checked
// before anything is written).
Status Decode(const CodecSpec& spec, std::span<const uint8_t> bytes, const CodecContext& ctx,
              std::span<float> out, bool accumulate);

// The codec's guaranteed contraction on n values: E‖v − C(v)‖² ≤ (1 − δ)‖v‖² for every v
// (none 1; sign 1/n; topk, randk k/n; q8 1 − 64/127²; q4 0: its worst-case variance
// bound 64/49·‖v‖² exceeds ‖v‖², though on smooth data it is ~0.05·‖v‖²).
double Contraction(const CodecSpec& spec, size_t n);

// A whole model: one block per tensor (sizes from the layout), tensor index = position.
size_t EncodedModelSize(const CodecSpec& spec, std::span<const size_t> tensor_sizes);
std::vector<uint8_t> EncodeModel(const CodecSpec& spec, std::span<const float> params,
                                 std::span<const size_t> tensor_sizes, uint64_t seed,
                                 uint64_t round);
// REQUIRES: out.size() == Σ tensor_sizes. The error names the tensor; on an error the
// tensors before the bad one are already written (decode into scratch to keep `out`).
Status DecodeModel(const CodecSpec& spec, std::span<const uint8_t> bytes,
                   std::span<const size_t> tensor_sizes, uint64_t seed, uint64_t round,
                   std::span<float> out, bool accumulate);

}  // namespace grapevine::merge
