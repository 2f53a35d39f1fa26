// The codecs of merge/compress.h: exact sizes at every edge, decode(encode(v)) against a
// plain reference implementation written here from the format in docs/compression.md,
// unbiasedness of q8/q4 over seeds, the contraction bound of every codec, the
// determinism randk relies on, and garbage decoding (each error names the problem and
// leaves the output alone).
#include "merge/compress.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace grapevine::merge {
namespace {

CodecSpec Spec(const char* text) {
  auto s = ParseCodec(text);
  EXPECT_TRUE(s.ok()) << text << ": " << s.status().ToString();
  return *s;
}

std::vector<float> Gaussian(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<float> RoundTrip(const CodecSpec& spec, const std::vector<float>& v,
                             const CodecContext& ctx) {
  std::vector<uint8_t> bytes;
  const size_t wrote = Encode(spec, v, ctx, &bytes);
  EXPECT_EQ(wrote, bytes.size());
  EXPECT_EQ(wrote, EncodedSize(spec, v.size())) << spec.ToString() << " n=" << v.size();
  std::vector<float> out(v.size(), 0.0f);
  Status st = Decode(spec, bytes, ctx, out, false);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return out;
}

double SqDist(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
  return s;
}
double SqNorm(const std::vector<float>& a) { return SqDist(a, std::vector<float>(a.size(), 0)); }

const char* const kAll[] = {"none", "q8", "q4", "sign", "topk:0.1", "topk:0.01", "randk:0.2"};

TEST(CompressTest, ParsesTheFormsAndRejectsTheRest) {
  EXPECT_EQ(Spec("topk:0.01").kind, CodecKind::kTopK);
  EXPECT_DOUBLE_EQ(Spec("randk:0.5").fraction, 0.5);
  for (const char* t : kAll) EXPECT_EQ(Spec(t).ToString(), t);
  for (const char* bad : {"topk:0", "topk:1.5", "topk:", "topk:x", "q9", "", "sign:1", "randk:-1"}) {
    auto s = ParseCodec(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find(CodecFormsHelp()), std::string::npos) << s.status().message();
  }
}

TEST(CompressTest, SizesAreExactAtEveryEdge) {
  for (const char* t : kAll) {
    const CodecSpec spec = Spec(t);
    EXPECT_EQ(EncodedSize(spec, 0), 0u) << t;
    for (size_t n : {1, 2, 7, 8, 9, 255, 256, 257, 1000, 4096, 65537}) {
      RoundTrip(spec, Gaussian(n, n), {1, 2, 3});  // checks Encode's size == EncodedSize
    }
  }
  EXPECT_EQ(EncodedSize(Spec("q8"), 257), 4u * 2 + 257);
  EXPECT_EQ(EncodedSize(Spec("q4"), 257), 4u * 2 + 128 + 1);
  EXPECT_EQ(EncodedSize(Spec("sign"), 9), 4u + 2);
  EXPECT_EQ(EncodedSize(Spec("randk:0.25"), 1000), 4u * 250);
  EXPECT_EQ(KeptEntries(Spec("topk:0.01"), 10), 1u);  // at least one
  // topk:0.01 of 100000: 1000 kept; Elias–Fano low = floor(log2 100) = 6 bits, high part
  // 1000 + (99999 >> 6) + 1 = 2563 bits: 4 + 2000 + ceil((6000 + 2563) / 8) = 3075 bytes.
  EXPECT_EQ(EncodedSize(Spec("topk:0.01"), 100000), 3075u);
}

// Reference decoders written from the byte format, independent of the library's code.
float RefHalf(uint16_t h) {
  const int e = (h >> 10) & 31, m = h & 1023;
  const float v = e == 0 ? std::ldexp(float(m), -24) : std::ldexp(float(1024 + m), e - 25);
  return (h & 0x8000) ? -v : v;
}
float Le(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

TEST(CompressTest, DecodesLikeTheReferenceOfTheFormat) {
  const std::vector<float> v = Gaussian(300, 5);
  const CodecContext ctx{9, 4, 1};
  {  // q8: per block of 256 a scale then int8 levels
    std::vector<uint8_t> b;
    Encode(Spec("q8"), v, ctx, &b);
    auto out = RoundTrip(Spec("q8"), v, ctx);
    size_t at = 0;
    for (size_t start = 0; start < v.size(); start += 256) {
      const float s = Le(&b[at]);
      at += 4;
      float m = 0;
      for (size_t i = start; i < std::min<size_t>(v.size(), start + 256); ++i) m = std::max(m, std::fabs(v[i]));
      EXPECT_EQ(s, m);
      for (size_t i = start; i < std::min<size_t>(v.size(), start + 256); ++i, ++at) {
        const float ref = float(int8_t(b[at])) * (s / 127.0f);
        EXPECT_EQ(out[i], ref);
        EXPECT_LE(std::fabs(out[i] - v[i]), s / 127.0f + 1e-6f);  // one level at most
      }
    }
  }
  {  // sign: scale ‖v‖₁/n then one bit per entry, 1 = negative
    auto out = RoundTrip(Spec("sign"), v, ctx);
    double l1 = 0;
    for (float x : v) l1 += std::fabs(x);
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_FLOAT_EQ(out[i], (v[i] < 0 ? -1.0f : 1.0f) * float(l1 / v.size()));
    }
  }
  {  // topk: the k largest magnitudes kept (to float16 precision), the rest zero
    const CodecSpec spec = Spec("topk:0.1");
    auto out = RoundTrip(spec, v, ctx);
    std::vector<float> mags;
    for (float x : v) mags.push_back(std::fabs(x));
    std::sort(mags.rbegin(), mags.rend());
    const float threshold = mags[KeptEntries(spec, v.size()) - 1];
    size_t kept = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      if (std::fabs(v[i]) >= threshold) {
        ++kept;
        EXPECT_NEAR(out[i], v[i], std::fabs(v[i]) * 1e-3f + 1e-6f);
      } else {
        EXPECT_EQ(out[i], 0.0f);
      }
    }
    EXPECT_EQ(kept, KeptEntries(spec, v.size()));
    std::vector<uint8_t> b;
    Encode(spec, v, ctx, &b);
    const float s = Le(b.data());
    EXPECT_EQ(s, mags[0]);
    for (size_t j = 0; j < kept; ++j) EXPECT_LE(std::fabs(RefHalf(uint16_t(b[4 + 2 * j] | b[5 + 2 * j] << 8))), 1.0f);
  }
  {  // randk: exactly k entries equal to v, the rest zero; the same ones for the same context
    const CodecSpec spec = Spec("randk:0.2");
    auto a = RoundTrip(spec, v, ctx), b = RoundTrip(spec, v, ctx), c = RoundTrip(spec, v, {9, 5, 1});
    size_t nonzero = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_TRUE(a[i] == 0.0f || a[i] == v[i]);
      nonzero += a[i] != 0.0f;
    }
    EXPECT_EQ(nonzero, KeptEntries(spec, v.size()));
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);  // another round, other entries
  }
  EXPECT_EQ(RoundTrip(Spec("none"), v, ctx), v);
}

TEST(CompressTest, QuantizersAreUnbiasedOverSeeds) {
  const std::vector<float> v = Gaussian(600, 11);
  for (const char* t : {"q8", "q4"}) {
    const CodecSpec spec = Spec(t);
    std::vector<double> mean(v.size(), 0.0);
    constexpr int kSeeds = 400;
    for (int s = 0; s < kSeeds; ++s) {
      auto out = RoundTrip(spec, v, {uint64_t(s), 0, 0});
      for (size_t i = 0; i < v.size(); ++i) mean[i] += out[i] / kSeeds;
    }
    // Per entry the rounding error is at most one step (scale/L), variance <= step²/4: the
    // mean of 400 draws is within 5 standard errors of v.
    const double levels = spec.kind == CodecKind::kQ8 ? 127 : 7;
    for (size_t i = 0; i < v.size(); ++i) {
      float m = 0;
      const size_t start = i / 256 * 256;
      for (size_t j = start; j < std::min(v.size(), start + 256); ++j) m = std::max(m, std::fabs(v[j]));
      const double se = (m / levels) / 2 / std::sqrt(double(kSeeds));
      EXPECT_NEAR(mean[i], v[i], 5 * se + 1e-7) << t << " entry " << i;
    }
  }
}

TEST(CompressTest, ContractionBoundHoldsForEveryCodec) {
  for (const char* t : kAll) {
    const CodecSpec spec = Spec(t);
    for (size_t n : {1, 255, 257, 5000}) {
      for (uint64_t seed : {1, 2, 3}) {
        const std::vector<float> v = Gaussian(n, seed * 31 + n);
        const double delta = Contraction(spec, n);
        double err = 0;
        constexpr int kDraws = 20;
        for (int d = 0; d < kDraws; ++d) err += SqDist(v, RoundTrip(spec, v, {uint64_t(d), seed, 0})) / kDraws;
        // Expectation over draws; 10 % slack for the sampling of stochastic codecs.
        EXPECT_LE(err, (1 - delta) * SqNorm(v) * (spec.stochastic() ? 1.1 : 1.0) + 1e-9)
            << t << " n=" << n;
      }
    }
  }
  // q4 has no worst-case contraction, but its variance bound 64/49·‖v‖² holds.
  const std::vector<float> spike = [] { std::vector<float> v(256, 1e-3f); v[0] = 1; return v; }();
  EXPECT_LE(SqDist(spike, RoundTrip(Spec("q4"), spike, {})), 64.0 / 49 * SqNorm(spike));
  EXPECT_NEAR(Contraction(Spec("topk:0.01"), 1000), 0.01, 1e-12);
}

TEST(CompressTest, AccumulateAddsToTheOutput) {
  const std::vector<float> v = Gaussian(500, 3);
  for (const char* t : kAll) {
    const CodecSpec spec = Spec(t);
    std::vector<uint8_t> b;
    Encode(spec, v, {1, 1, 1}, &b);
    std::vector<float> once(v.size(), 0.0f), twice(v.size(), 1.0f);
    ASSERT_TRUE(Decode(spec, b, {1, 1, 1}, once, false).ok());
    ASSERT_TRUE(Decode(spec, b, {1, 1, 1}, twice, true).ok());
    for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(twice[i], once[i] + 1.0f, 1e-6f) << t;
  }
}

// Decoding `bytes` must fail with `what` in the message and leave `out` as it was.
void ExpectRejected(const CodecSpec& spec, const std::vector<uint8_t>& bytes, size_t n,
                    const std::string& what) {
  std::vector<float> out(n, 7.0f);
  Status st = Decode(spec, bytes, {}, out, false);
  ASSERT_FALSE(st.ok()) << spec.ToString() << " accepted garbage (" << what << ")";
  EXPECT_NE(st.message().find(what), std::string::npos) << st.message();
  for (float x : out) ASSERT_EQ(x, 7.0f);
}

TEST(CompressTest, GarbageIsRejectedWithAReason) {
  const std::vector<float> v = Gaussian(300, 8);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  for (const char* t : kAll) {
    const CodecSpec spec = Spec(t);
    std::vector<uint8_t> b;
    Encode(spec, v, {}, &b);
    auto shorter = b;
    shorter.pop_back();
    ExpectRejected(spec, shorter, v.size(), "expected");
    auto longer = b;
    longer.push_back(0);
    ExpectRejected(spec, longer, v.size(), "expected");
    for (float bad : {nan, inf}) {  // the first float of every format is a scale or value
      auto scaled = b;
      std::memcpy(scaled.data(), &bad, 4);
      std::vector<float> out(v.size(), 7.0f);
      EXPECT_FALSE(Decode(spec, scaled, {}, out, false).ok()) << t;
    }
  }
  std::vector<uint8_t> q8;
  Encode(Spec("q8"), v, {}, &q8);
  q8[10] = 0x80;
  ExpectRejected(Spec("q8"), q8, v.size(), "-128");
  std::vector<uint8_t> q4;
  Encode(Spec("q4"), v, {}, &q4);
  q4[10] = 0xff;
  ExpectRejected(Spec("q4"), q4, v.size(), "nibble 15");
  // topk, 1000 entries, 10 kept: Elias–Fano low 6 bits × 10, then the high bit vector.
  const CodecSpec topk = Spec("topk:0.01");
  const std::vector<float> w = Gaussian(1000, 4);
  std::vector<uint8_t> tk;
  Encode(topk, w, {}, &tk);
  const size_t ef = 4 + 2 * 10;
  {
    auto bad = tk;
    for (size_t i = ef; i < bad.size(); ++i) bad[i] = 0;  // no index at all
    ExpectRejected(topk, bad, w.size(), "entries, not 10");
  }
  {
    auto bad = tk;
    for (size_t i = ef; i < bad.size(); ++i) bad[i] = 0xff;  // too many, or out of range
    std::vector<float> out(w.size(), 7.0f);
    Status st = Decode(topk, bad, {}, out, false);
    ASSERT_FALSE(st.ok());
    EXPECT_TRUE(st.message().find("more than k") != std::string::npos ||
                st.message().find("out of range") != std::string::npos ||
                st.message().find("not increasing") != std::string::npos) << st.message();
  }
  {  // two equal indices: low bits equal and high bits equal (adjacent set bits)
    auto bad = tk;
    for (size_t i = ef; i < bad.size(); ++i) bad[i] = 0;
    // low parts all 0; high part: the first 10 bits set = 10 indices with high 0 → all 0
    const size_t high_start = 10 * 6;
    for (size_t j = 0; j < 10; ++j) bad[ef + (high_start + j) / 8] |= uint8_t(1u << ((high_start + j) % 8));
    ExpectRejected(topk, bad, w.size(), "not increasing");
  }
  {
    auto bad = tk;
    bad[4] = 0x00;
    bad[5] = 0x7c;  // float16 +Inf
    ExpectRejected(topk, bad, w.size(), "not in [-1, 1]");
  }
  // Random bytes of the right length never crash and never leave NaN behind.
  std::mt19937 rng(3);
  for (const char* t : kAll) {
    const CodecSpec spec = Spec(t);
    for (int trial = 0; trial < 200; ++trial) {
      std::vector<uint8_t> junk(EncodedSize(spec, 300));
      for (auto& x : junk) x = uint8_t(rng());
      std::vector<float> out(300, 0.0f);
      if (Decode(spec, junk, {}, out, false).ok()) {
        for (float x : out) ASSERT_TRUE(std::isfinite(x)) << t;
      }
    }
  }
}

TEST(CompressTest, ModelsAreEncodedTensorByTensor) {
  const std::vector<size_t> sizes{300, 1, 0, 700};
  const std::vector<float> v = Gaussian(1001, 6);
  for (const char* t : kAll) {
    const CodecSpec spec = Spec(t);
    auto bytes = EncodeModel(spec, v, sizes, 5, 9);
    ASSERT_EQ(bytes.size(), EncodedModelSize(spec, sizes));
    std::vector<float> out(v.size());
    ASSERT_TRUE(DecodeModel(spec, bytes, sizes, 5, 9, out, false).ok());
    // Tensor by tensor with the tensor index as context gives the same.
    size_t offset = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      std::vector<float> part(v.begin() + offset, v.begin() + offset + sizes[k]);
      auto ref = RoundTrip(spec, part, {5, 9, uint32_t(k)});
      for (size_t i = 0; i < sizes[k]; ++i) ASSERT_EQ(out[offset + i], ref[i]) << t;
      offset += sizes[k];
    }
    bytes.push_back(1);
    Status st = DecodeModel(spec, bytes, sizes, 5, 9, out, false);
    EXPECT_FALSE(st.ok());
  }
}

}  // namespace
}  // namespace grapevine::merge
