// ByteWriter / ByteReader: explicit little-endian encoding of plain values into a byte
// buffer, for on-disk formats (agent/core/checkpoint.h and the state blobs it carries:
// learn::Trainer::SaveState, Algorithm::SaveState). Wire messages use Cap'n Proto
// (proto/), never this.
//
// The reader never reads past its span: a short or malformed buffer turns the reader
// "failed" (every later read returns zeros / empty), and the caller checks ok() once at
// the end, so decoding code stays linear. Lengths are checked against what is left
// before anything is allocated.
//
// Thread-safety: plain value types; one thread per instance.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace grapevine {

static_assert(std::endian::native == std::endian::little,
              "ByteWriter/ByteReader copy floats as stored; a big-endian host needs byte swaps");

class ByteWriter {
 public:
  void U8(uint8_t v) { bytes_.push_back(v); }
  void U32(uint32_t v) { Raw(&v, sizeof v); }
  void U64(uint64_t v) { Raw(&v, sizeof v); }
  void I64(int64_t v) { Raw(&v, sizeof v); }
  void F64(double v) { Raw(&v, sizeof v); }
  // u64 length, then the bytes.
  void Bytes(std::span<const uint8_t> b) {
    U64(b.size());
    Raw(b.data(), b.size());
  }
  void String(const std::string& s) {
    Bytes({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
  }
  // u64 count, then count float32.
  void Floats(std::span<const float> f) {
    U64(f.size());
    Raw(f.data(), f.size() * sizeof(float));
  }
  void Raw(const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = bytes_.size();
    bytes_.resize(at + n);
    std::memcpy(bytes_.data() + at, p, n);
  }
  std::vector<uint8_t>& bytes() { return bytes_; }
  std::vector<uint8_t> Take() { return std::move(bytes_); }

 private:
  std::vector<uint8_t> bytes_;
};

class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}

  uint8_t U8() { return Fixed<uint8_t>(); }
  uint32_t U32() { return Fixed<uint32_t>(); }
  uint64_t U64() { return Fixed<uint64_t>(); }
  int64_t I64() { return Fixed<int64_t>(); }
  double F64() { return Fixed<double>(); }
  std::vector<uint8_t> Bytes() {
    const uint64_t n = U64();
    if (!ok_ || n > left()) return Fail<std::vector<uint8_t>>();
    std::vector<uint8_t> out(in_.begin() + pos_, in_.begin() + pos_ + n);
    pos_ += n;
    return out;
  }
  std::string String() {
    auto b = Bytes();
    return {b.begin(), b.end()};
  }
  std::vector<float> Floats() {
    const uint64_t n = U64();
    if (!ok_ || n > left() / sizeof(float)) return Fail<std::vector<float>>();
    std::vector<float> out(n);
    std::memcpy(out.data(), in_.data() + pos_, n * sizeof(float));
    pos_ += n * sizeof(float);
    return out;
  }

  bool ok() const { return ok_; }
  // True when everything was read and nothing is left over.
  bool done() const { return ok_ && pos_ == in_.size(); }
  size_t left() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  void Invalidate() { ok_ = false; }

 private:
  template <typename T>
  T Fixed() {
    if (!ok_ || left() < sizeof(T)) return Fail<T>();
    T v;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  template <typename T>
  T Fail() {
    ok_ = false;
    return T{};
  }

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace grapevine
