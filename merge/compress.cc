#include "merge/compress.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <limits>
#include <numeric>

#include "base/check.h"

namespace grapevine::merge {

namespace {

static_assert(std::endian::native == std::endian::little, "codecs write little-endian floats");

constexpr size_t kBlock = 256;  // q8 / q4 block length
constexpr int kQ8Levels = 127;
constexpr int kQ4Levels = 7;

// ---- randomness: splitmix64, seeded from (seed, round, tensor) ----

inline uint64_t Mix(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(const CodecContext& c)
      : s_(Mix(c.seed ^ Mix(c.round ^ Mix(static_cast<uint64_t>(c.tensor) + 0x51ED27ull)))) {}
  uint64_t Next() {
    s_ += 0x9E3779B97F4A7C15ull;
    uint64_t z = s_;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

 private:
  uint64_t s_;
};

// ---- little-endian scalars ----

inline void PutFloat(float f, uint8_t* p) { std::memcpy(p, &f, 4); }
inline float GetFloat(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

// ---- float16 (IEEE binary16), round to nearest even ----

uint16_t FloatToHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  x &= 0x7fffffffu;
  if (x >= 0x7f800000u) return sign | (x > 0x7f800000u ? 0x7e00 : 0x7c00);  // NaN, Inf
  if (x >= 0x477ff000u) return sign | 0x7c00;  // >= 65520 rounds to Inf
  if (x < 0x38800000u) {                        // below 2^-14: a subnormal half (or 0)
    float a;
    std::memcpy(&a, &x, 4);
    return sign | static_cast<uint16_t>(std::nearbyint(a * 0x1.0p24f));
  }
  uint32_t h = (((x >> 23) - 112u) << 10) | ((x & 0x7fffffu) >> 13);
  const uint32_t rest = x & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
  return sign | static_cast<uint16_t>(h);
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu;
  const uint32_t m = h & 0x3ffu;
  if (e == 0) {
    const float v = static_cast<float>(m) * 0x1.0p-24f;
    return sign ? -v : v;
  }
  const uint32_t bits = e == 31 ? sign | 0x7f800000u | (m << 13)
                                : sign | ((e + 112u) << 23) | (m << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// ---- sizes ----

size_t Blocks(size_t n) { return (n + kBlock - 1) / kBlock; }

// Elias–Fano of k increasing values below n: `low` bits per value, then a unary high part.
struct EliasFano {
  unsigned low = 0;
  size_t high_bits = 0;
  size_t bits = 0;
};

EliasFano EliasFanoOf(size_t n, size_t k) {
  EliasFano ef;
  if (k == 0) return ef;
  while ((k << (ef.low + 1)) <= n) ++ef.low;  // floor(log2(n / k))
  ef.high_bits = k + ((n - 1) >> ef.low) + 1;
  ef.bits = k * ef.low + ef.high_bits;
  return ef;
}

size_t TopKSize(size_t n, size_t k) {
  if (n == 0) return 0;
  return 4 + 2 * k + (EliasFanoOf(n, k).bits + 7) / 8;
}

// ---- bit streams (LSB first) ----

class BitWriter {
 public:
  explicit BitWriter(uint8_t* p) : p_(p) {}
  void Put(uint64_t value, unsigned bits) {
    for (unsigned b = 0; b < bits; ++b, ++pos_) {
      if ((value >> b) & 1u) p_[pos_ >> 3] |= static_cast<uint8_t>(1u << (pos_ & 7));
    }
  }
  void SetBit(size_t at) { p_[at >> 3] |= static_cast<uint8_t>(1u << (at & 7)); }
  size_t pos() const { return pos_; }

 private:
  uint8_t* p_;
  size_t pos_ = 0;
};

inline bool GetBit(const uint8_t* p, size_t at) { return (p[at >> 3] >> (at & 7)) & 1u; }

uint64_t GetBits(const uint8_t* p, size_t at, unsigned bits) {
  uint64_t v = 0;
  for (unsigned b = 0; b < bits; ++b) v |= static_cast<uint64_t>(GetBit(p, at + b)) << b;
  return v;
}

// ---- q8 / q4 ----

// Stochastic rounding of |v|/scale·L to an integer level in [0, L], unbiased.
inline int Level(float a, float u, int levels) {
  const float floor_a = std::floor(a);
  int level = static_cast<int>(floor_a) + (u < a - floor_a ? 1 : 0);
  return std::min(level, levels);
}

void EncodeQuantized(std::span<const float> v, int levels, bool nibbles, const CodecContext& ctx,
                     uint8_t* out) {
  Rng rng(ctx);
  const size_t n = v.size();
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t len = std::min(kBlock, n - start);
    const float* x = v.data() + start;
    float m = 0;
    for (size_t i = 0; i < len; ++i) m = std::max(m, std::fabs(x[i]));
    if (!std::isfinite(m)) m = std::numeric_limits<float>::quiet_NaN();  // receivers reject
    PutFloat(m, out);
    out += 4;
    const float inv = m > 0 && std::isfinite(m) ? static_cast<float>(levels) / m : 0.0f;
    const size_t payload = nibbles ? (len + 1) / 2 : len;
    if (nibbles) std::memset(out, 0x77, payload);  // level 0 everywhere, padding included
    for (size_t i = 0; i < len; i += 2) {
      const uint64_t r = rng.Next();
      const float u[2] = {static_cast<float>(r & 0xffffffu) * 0x1.0p-24f,
                          static_cast<float>(r >> 40) * 0x1.0p-24f};
      for (size_t j = i; j < std::min(len, i + 2); ++j) {
        int level = Level(std::fabs(x[j]) * inv, u[j - i], levels);
        if (x[j] < 0) level = -level;
        if (!nibbles) {
          out[j] = static_cast<uint8_t>(static_cast<int8_t>(level));
        } else {
          const uint8_t nib = static_cast<uint8_t>(level + levels);
          uint8_t& byte = out[j / 2];
          byte = (j & 1) ? static_cast<uint8_t>((byte & 0x0f) | (nib << 4))
                         : static_cast<uint8_t>((byte & 0xf0) | nib);
        }
      }
    }
    out += payload;
  }
}

Status DecodeQuantized(std::span<const uint8_t> bytes, int levels, bool nibbles,
                       std::span<float> out, bool accumulate) {
  const size_t n = out.size();
  // Check everything before writing anything.
  const uint8_t* p = bytes.data();
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t len = std::min(kBlock, n - start);
    const float m = GetFloat(p);
    if (!std::isfinite(m) || m < 0) {
      return Status::Invalid("block " + std::to_string(start / kBlock) + " has scale " +
                             std::to_string(m) + " (NaN, Inf or negative)");
    }
    p += 4;
    if (!nibbles) {
      for (size_t i = 0; i < len; ++i) {
        if (p[i] == 0x80) {
          return Status::Invalid("q8 level -128 at entry " + std::to_string(start + i));
        }
      }
      p += len;
    } else {
      for (size_t i = 0; i < len; ++i) {
        const uint8_t nib = (i & 1) ? (p[i / 2] >> 4) : (p[i / 2] & 0x0f);
        if (nib == 15) return Status::Invalid("q4 nibble 15 at entry " + std::to_string(start + i));
      }
      p += (len + 1) / 2;
    }
  }
  p = bytes.data();
  for (size_t start = 0; start < n; start += kBlock) {
    const size_t len = std::min(kBlock, n - start);
    const float step = GetFloat(p) / static_cast<float>(levels);
    p += 4;
    float* y = out.data() + start;
    if (!nibbles) {
      const int8_t* q = reinterpret_cast<const int8_t*>(p);
      if (accumulate) {
        for (size_t i = 0; i < len; ++i) y[i] += static_cast<float>(q[i]) * step;
      } else {
        for (size_t i = 0; i < len; ++i) y[i] = static_cast<float>(q[i]) * step;
      }
      p += len;
    } else {
      for (size_t i = 0; i < len; ++i) {
        const int nib = (i & 1) ? (p[i / 2] >> 4) : (p[i / 2] & 0x0f);
        const float value = static_cast<float>(nib - levels) * step;
        y[i] = accumulate ? y[i] + value : value;
      }
      p += (len + 1) / 2;
    }
  }
  return Status::Ok();
}

// ---- sign ----

void EncodeSign(std::span<const float> v, uint8_t* out) {
  const size_t n = v.size();
  // Eight partial sums, so the compiler can vectorise the L1 norm.
  float part[8] = {};
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int j = 0; j < 8; ++j) part[j] += std::fabs(v[i + j]);
  }
  double l1 = 0;
  for (float p : part) l1 += p;
  for (; i < n; ++i) l1 += std::fabs(v[i]);
  PutFloat(static_cast<float>(l1 / static_cast<double>(n)), out);
  uint8_t* bits = out + 4;
  const uint32_t* raw = reinterpret_cast<const uint32_t*>(v.data());
  for (i = 0; i + 8 <= n; i += 8) {
    uint32_t byte = 0;
    for (int j = 0; j < 8; ++j) byte |= (raw[i + j] >> 31) << j;
    bits[i / 8] = static_cast<uint8_t>(byte);
  }
  if (i < n) {
    uint32_t byte = 0;
    for (size_t j = i; j < n; ++j) byte |= (raw[j] >> 31) << (j - i);
    bits[i / 8] = static_cast<uint8_t>(byte);
  }
}

Status DecodeSign(std::span<const uint8_t> bytes, std::span<float> out, bool accumulate) {
  const float s = GetFloat(bytes.data());
  if (!std::isfinite(s) || s < 0) {
    return Status::Invalid("sign scale " + std::to_string(s) + " is NaN, Inf or negative");
  }
  const uint8_t* bits = bytes.data() + 4;
  const size_t n = out.size();
  uint32_t magnitude;
  std::memcpy(&magnitude, &s, 4);
  float* y = out.data();
  // ±s by setting the sign bit: branch-free, so both loops vectorise.
  auto value = [&](size_t i) {
    const uint32_t b = (static_cast<uint32_t>(bits[i >> 3]) >> (i & 7)) & 1u;
    return std::bit_cast<float>(magnitude | (b << 31));
  };
  if (accumulate) {
    for (size_t i = 0; i < n; ++i) y[i] += value(i);
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = value(i);
  }
  return Status::Ok();
}

// ---- topk ----

void EncodeTopK(std::span<const float> v, size_t k, uint8_t* out, size_t size) {
  const size_t n = v.size();
  thread_local std::vector<uint32_t> idx;
  idx.resize(n);
  std::iota(idx.begin(), idx.end(), 0u);
  auto key = [&](uint32_t i) {
    const float a = std::fabs(v[i]);
    return std::isnan(a) ? std::numeric_limits<float>::infinity() : a;
  };
  if (k < n) {
    std::nth_element(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                     [&](uint32_t a, uint32_t b) { return key(a) > key(b); });
  }
  std::sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k));
  float m = 0;
  for (size_t j = 0; j < k; ++j) m = std::max(m, std::fabs(v[idx[j]]));
  if (!std::isfinite(m)) m = std::numeric_limits<float>::quiet_NaN();
  PutFloat(m, out);
  const float inv = m > 0 && std::isfinite(m) ? 1.0f / m : 0.0f;
  uint8_t* values = out + 4;
  for (size_t j = 0; j < k; ++j) {
    const float scaled = std::clamp(v[idx[j]] * inv, -1.0f, 1.0f);
    const uint16_t h = FloatToHalf(scaled);
    values[2 * j] = static_cast<uint8_t>(h & 0xff);
    values[2 * j + 1] = static_cast<uint8_t>(h >> 8);
  }
  uint8_t* ef_bytes = values + 2 * k;
  std::memset(ef_bytes, 0, size - 4 - 2 * k);
  const EliasFano ef = EliasFanoOf(n, k);
  BitWriter w(ef_bytes);
  const uint64_t low_mask = (uint64_t{1} << ef.low) - 1;
  for (size_t j = 0; j < k; ++j) w.Put(idx[j] & low_mask, ef.low);
  const size_t high_start = k * ef.low;
  for (size_t j = 0; j < k; ++j) w.SetBit(high_start + (idx[j] >> ef.low) + j);
}

Status DecodeTopK(std::span<const uint8_t> bytes, size_t k, std::span<float> out,
                  bool accumulate) {
  const size_t n = out.size();
  const float m = GetFloat(bytes.data());
  if (!std::isfinite(m) || m < 0) {
    return Status::Invalid("top-k scale " + std::to_string(m) + " is NaN, Inf or negative");
  }
  const uint8_t* values = bytes.data() + 4;
  thread_local std::vector<float> vals;
  thread_local std::vector<uint32_t> idx;
  vals.resize(k);
  idx.resize(k);
  for (size_t j = 0; j < k; ++j) {
    const uint16_t h = static_cast<uint16_t>(values[2 * j] | (values[2 * j + 1] << 8));
    const float f = HalfToFloat(h);
    if (!std::isfinite(f) || std::fabs(f) > 1.0f) {
      return Status::Invalid("top-k value " + std::to_string(j) + " is not in [-1, 1]");
    }
    vals[j] = f * m;
  }
  const uint8_t* ef_bytes = values + 2 * k;
  const EliasFano ef = EliasFanoOf(n, k);
  const size_t high_start = k * ef.low;
  size_t found = 0;
  for (size_t pos = 0; pos < ef.high_bits; ++pos) {
    if (!GetBit(ef_bytes, high_start + pos)) continue;
    if (found == k) return Status::Invalid("top-k index list has more than k entries");
    const uint64_t high = pos - found;
    const uint64_t index = (high << ef.low) | GetBits(ef_bytes, found * ef.low, ef.low);
    if (index >= n) {
      return Status::Invalid("top-k index " + std::to_string(index) + " out of range (" +
                             std::to_string(n) + " entries)");
    }
    if (found > 0 && index <= idx[found - 1]) {
      return Status::Invalid("top-k indices not increasing at entry " + std::to_string(found));
    }
    idx[found++] = static_cast<uint32_t>(index);
  }
  if (found != k) {
    return Status::Invalid("top-k index list has " + std::to_string(found) + " entries, not " +
                           std::to_string(k));
  }
  if (!accumulate) std::fill(out.begin(), out.end(), 0.0f);
  for (size_t j = 0; j < k; ++j) out[idx[j]] += vals[j];
  return Status::Ok();
}

// ---- randk ----

// k distinct indices of [0, n), increasing, by selection sampling (Knuth's algorithm S).
void RandomIndices(size_t n, size_t k, const CodecContext& ctx, std::vector<uint32_t>* idx) {
  idx->clear();
  Rng rng(ctx);
  size_t chosen = 0;
  for (size_t i = 0; i < n && chosen < k; ++i) {
    if (rng.Uniform() * static_cast<double>(n - i) < static_cast<double>(k - chosen)) {
      idx->push_back(static_cast<uint32_t>(i));
      ++chosen;
    }
  }
}

}  // namespace

std::string CodecSpec::ToString() const {
  switch (kind) {
    case CodecKind::kNone:
      return "none";
    case CodecKind::kQ8:
      return "q8";
    case CodecKind::kQ4:
      return "q4";
    case CodecKind::kSign:
      return "sign";
    case CodecKind::kTopK:
    case CodecKind::kRandK: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%s:%g", kind == CodecKind::kTopK ? "topk" : "randk",
                    fraction);
      return buf;
    }
  }
  return "?";
}

bool CodecSpec::stochastic() const {
  return kind == CodecKind::kQ8 || kind == CodecKind::kQ4 || kind == CodecKind::kRandK;
}

std::string CodecFormsHelp() { return "none|q8|q4|sign|topk:F|randk:F"; }

Result<CodecSpec> ParseCodec(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Status::Invalid("codec '" + std::string(text) + "' " + why + " (one of " +
                           CodecFormsHelp() + ", F a fraction in (0, 1])");
  };
  CodecSpec spec;
  if (text == "none") return spec;
  if (text == "q8" || text == "q4" || text == "sign") {
    spec.kind = text == "q8" ? CodecKind::kQ8 : text == "q4" ? CodecKind::kQ4 : CodecKind::kSign;
    return spec;
  }
  for (auto [prefix, kind] : {std::pair{std::string_view("topk:"), CodecKind::kTopK},
                              std::pair{std::string_view("randk:"), CodecKind::kRandK}}) {
    if (!text.starts_with(prefix)) continue;
    const std::string number(text.substr(prefix.size()));
    if (number.empty()) return bad("has no fraction");
    char* end = nullptr;
    const double f = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size() || !std::isfinite(f)) {
      return bad("has a fraction that is not a number");
    }
    if (!(f > 0 && f <= 1)) return bad("keeps a fraction outside (0, 1]");
    spec.kind = kind;
    spec.fraction = f;
    return spec;
  }
  return bad("is unknown");
}

size_t KeptEntries(const CodecSpec& spec, size_t n) {
  if (n == 0) return 0;
  const double k = std::round(spec.fraction * static_cast<double>(n));
  return std::clamp<size_t>(static_cast<size_t>(k), 1, n);
}

size_t EncodedSize(const CodecSpec& spec, size_t n) {
  if (n == 0) return 0;
  switch (spec.kind) {
    case CodecKind::kNone:
      return 4 * n;
    case CodecKind::kQ8:
      return 4 * Blocks(n) + n;
    case CodecKind::kQ4: {
      size_t size = 4 * Blocks(n);
      for (size_t start = 0; start < n; start += kBlock) size += (std::min(kBlock, n - start) + 1) / 2;
      return size;
    }
    case CodecKind::kSign:
      return 4 + (n + 7) / 8;
    case CodecKind::kTopK:
      return TopKSize(n, KeptEntries(spec, n));
    case CodecKind::kRandK:
      return 4 * KeptEntries(spec, n);
  }
  return 0;
}

size_t Encode(const CodecSpec& spec, std::span<const float> v, const CodecContext& ctx,
              std::vector<uint8_t>* out) {
  const size_t size = EncodedSize(spec, v.size());
  const size_t at = out->size();
  out->resize(at + size);
  if (size == 0) return 0;
  uint8_t* p = out->data() + at;
  switch (spec.kind) {
    case CodecKind::kNone:
      std::memcpy(p, v.data(), size);
      break;
    case CodecKind::kQ8:
      EncodeQuantized(v, kQ8Levels, false, ctx, p);
      break;
    case CodecKind::kQ4:
      EncodeQuantized(v, kQ4Levels, true, ctx, p);
      break;
    case CodecKind::kSign:
      EncodeSign(v, p);
      break;
    case CodecKind::kTopK:
      EncodeTopK(v, KeptEntries(spec, v.size()), p, size);
      break;
    case CodecKind::kRandK: {
      thread_local std::vector<uint32_t> idx;
      RandomIndices(v.size(), KeptEntries(spec, v.size()), ctx, &idx);
      for (size_t j = 0; j < idx.size(); ++j) PutFloat(v[idx[j]], p + 4 * j);
      break;
    }
  }
  return size;
}

Status Decode(const CodecSpec& spec, std::span<const uint8_t> bytes, const CodecContext& ctx,
              std::span<float> out, bool accumulate) {
  const size_t n = out.size();
  const size_t want = EncodedSize(spec, n);
  if (bytes.size() != want) {
    return Status::Invalid(spec.ToString() + " block of " + std::to_string(n) + " entries has " +
                           std::to_string(bytes.size()) + " bytes, expected " +
                           std::to_string(want));
  }
  if (n == 0) return Status::Ok();
  switch (spec.kind) {
    case CodecKind::kNone: {
      for (size_t i = 0; i < n; ++i) {
        if (!std::isfinite(GetFloat(bytes.data() + 4 * i))) {
          return Status::Invalid("value " + std::to_string(i) + " is NaN or Inf");
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const float value = GetFloat(bytes.data() + 4 * i);
        out[i] = accumulate ? out[i] + value : value;
      }
      return Status::Ok();
    }
    case CodecKind::kQ8:
      return DecodeQuantized(bytes, kQ8Levels, false, out, accumulate);
    case CodecKind::kQ4:
      return DecodeQuantized(bytes, kQ4Levels, true, out, accumulate);
    case CodecKind::kSign:
      return DecodeSign(bytes, out, accumulate);
    case CodecKind::kTopK:
      return DecodeTopK(bytes, KeptEntries(spec, n), out, accumulate);
    case CodecKind::kRandK: {
      for (size_t j = 0; j < bytes.size() / 4; ++j) {
        if (!std::isfinite(GetFloat(bytes.data() + 4 * j))) {
          return Status::Invalid("random-k value " + std::to_string(j) + " is NaN or Inf");
        }
      }
      thread_local std::vector<uint32_t> idx;
      RandomIndices(n, KeptEntries(spec, n), ctx, &idx);
      if (!accumulate) std::fill(out.begin(), out.end(), 0.0f);
      for (size_t j = 0; j < idx.size(); ++j) out[idx[j]] += GetFloat(bytes.data() + 4 * j);
      return Status::Ok();
    }
  }
  return Status::Invalid("unknown codec");
}

double Contraction(const CodecSpec& spec, size_t n) {
  if (n == 0) return 1.0;
  switch (spec.kind) {
    case CodecKind::kNone:
      return 1.0;
    case CodecKind::kQ8:
      // Stochastic rounding adds at most step²/4 per entry, step = scale/L, and a block's
      // ‖v‖² is at least scale²: E‖v − C(v)‖² ≤ 256/(4L²)·‖v‖².
      return 1.0 - 64.0 / (kQ8Levels * kQ8Levels);
    case CodecKind::kQ4:
      return 0.0;  // 64/49 > 1: no worst-case contraction (see the header)
    case CodecKind::kSign:
      return 1.0 / static_cast<double>(n);  // ‖v − C(v)‖² = ‖v‖² − ‖v‖₁²/n, ‖v‖₁² ≥ ‖v‖²
    case CodecKind::kTopK:
    case CodecKind::kRandK:
      return static_cast<double>(KeptEntries(spec, n)) / static_cast<double>(n);
  }
  return 0.0;
}

size_t EncodedModelSize(const CodecSpec& spec, std::span<const size_t> tensor_sizes) {
  size_t total = 0;
  for (size_t n : tensor_sizes) total += EncodedSize(spec, n);
  return total;
}

std::vector<uint8_t> EncodeModel(const CodecSpec& spec, std::span<const float> params,
                                 std::span<const size_t> tensor_sizes, uint64_t seed,
                                 uint64_t round) {
  std::vector<uint8_t> out;
  out.reserve(EncodedModelSize(spec, tensor_sizes));
  size_t offset = 0;
  for (size_t t = 0; t < tensor_sizes.size(); ++t) {
    GV_CHECK(offset + tensor_sizes[t] <= params.size());
    Encode(spec, params.subspan(offset, tensor_sizes[t]), {seed, round, static_cast<uint32_t>(t)},
           &out);
    offset += tensor_sizes[t];
  }
  GV_CHECK(offset == params.size());
  return out;
}

Status DecodeModel(const CodecSpec& spec, std::span<const uint8_t> bytes,
                   std::span<const size_t> tensor_sizes, uint64_t seed, uint64_t round,
                   std::span<float> out, bool accumulate) {
  const size_t want = EncodedModelSize(spec, tensor_sizes);
  if (bytes.size() != want) {
    return Status::Invalid(spec.ToString() + " model has " + std::to_string(bytes.size()) +
                           " bytes, expected " + std::to_string(want));
  }
  size_t offset = 0, at = 0;
  for (size_t t = 0; t < tensor_sizes.size(); ++t) {
    const size_t n = tensor_sizes[t];
    GV_CHECK(offset + n <= out.size());
    const size_t size = EncodedSize(spec, n);
    Status st = Decode(spec, bytes.subspan(at, size), {seed, round, static_cast<uint32_t>(t)},
                       out.subspan(offset, n), accumulate);
    if (!st.ok()) return Status::Invalid("tensor " + std::to_string(t) + ": " + st.message());
    offset += n;
    at += size;
  }
  return Status::Ok();
}

}  // namespace grapevine::merge
