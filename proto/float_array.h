// FloatArray: the float32 parameter array of a ModelPayload / CrossGradient.
//
// Behaves like std::vector<float> for everything grapevine does with model values
// (data, size, empty, operator[], begin/end, assign, resize, clear, ==), with one
// addition: it can keep its values inside a block of memory it shares with others,
// instead of in storage of its own. The codec uses that to decode a big model
// straight out of the receive buffer it arrived in (Decode(payload, block) in
// proto/codec.h): no 64 MiB copy, no fresh pages to fault in. The block (e.g. a
// connection's receive buffer) stays alive, and is not reused by its owner, until
// the last FloatArray viewing it is gone.
//
// Value semantics are those of a vector: a FloatArray's elements are its own. A
// copy is always a deep copy into owned storage, so two FloatArrays never see each
// other's writes; only disjoint ranges of one block are ever handed out (by the
// codec), and the block's owner promises not to touch them while they are viewed.
// Any size-changing call (assign, resize, clear, push_back, reserve) on a viewing
// array first moves its values into owned storage.
//
// Thread-safety: like std::vector (no internal locking). The shared block's
// reference count is atomic, so arrays viewing one block may live on different
// threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <utility>
#include <vector>

namespace grapevine::proto {

class FloatArray {
 public:
  using value_type = float;
  using size_type = size_t;
  using difference_type = std::ptrdiff_t;
  using reference = float&;
  using const_reference = const float&;
  using pointer = float*;
  using const_pointer = const float*;
  using iterator = float*;
  using const_iterator = const float*;

  FloatArray() = default;
  FloatArray(std::vector<float>&& values) : owned_(std::move(values)) {}  // NOLINT: implicit
  FloatArray(const std::vector<float>& values) : owned_(values) {}        // NOLINT: implicit
  FloatArray(std::initializer_list<float> values) : owned_(values) {}
  explicit FloatArray(size_t n, float value = 0.0f) : owned_(n, value) {}
  template <std::input_iterator It>
  FloatArray(It first, It last) : owned_(first, last) {}

  // Deep copy (owned storage), whatever `other` keeps its values in.
  FloatArray(const FloatArray& other) : owned_(other.begin(), other.end()) {}
  FloatArray& operator=(const FloatArray& other) {
    if (this != &other) assign(other.begin(), other.end());
    return *this;
  }
  FloatArray(FloatArray&& other) noexcept { Take(other); }
  FloatArray& operator=(FloatArray&& other) noexcept {
    if (this != &other) Take(other);
    return *this;
  }

  // An array whose n values live at `values`, inside memory kept alive by `block`.
  // REQUIRES: values .. values+n stay valid while `block` lives, and nobody else
  // reads or writes them while the array (or a move of it) views them.
  static FloatArray View(std::shared_ptr<void> block, float* values, size_t n) {
    FloatArray a;
    if (n == 0) return a;
    a.block_ = std::move(block);
    a.view_ = values;
    a.view_size_ = n;
    return a;
  }

  // True if the values live in a shared block rather than in own storage.
  bool is_view() const { return block_ != nullptr; }

  size_t size() const { return block_ ? view_size_ : owned_.size(); }
  bool empty() const { return size() == 0; }
  float* data() { return block_ ? view_ : owned_.data(); }
  const float* data() const { return block_ ? view_ : owned_.data(); }
  float& operator[](size_t i) { return data()[i]; }
  const float& operator[](size_t i) const { return data()[i]; }
  float& front() { return data()[0]; }
  const float& front() const { return data()[0]; }
  float& back() { return data()[size() - 1]; }
  const float& back() const { return data()[size() - 1]; }
  iterator begin() { return data(); }
  iterator end() { return data() + size(); }
  const_iterator begin() const { return data(); }
  const_iterator end() const { return data() + size(); }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }

  template <std::input_iterator It>
  void assign(It first, It last) {
    if (block_) {
      std::vector<float> fresh(first, last);  // `first` may point into the view
      Release();
      owned_ = std::move(fresh);
    } else {
      owned_.assign(first, last);
    }
  }
  void assign(size_t n, float value) {
    Release();
    owned_.assign(n, value);
  }
  void assign(std::initializer_list<float> values) { assign(values.begin(), values.end()); }
  void resize(size_t n) {
    Own();
    owned_.resize(n);
  }
  void resize(size_t n, float value) {
    Own();
    owned_.resize(n, value);
  }
  void reserve(size_t n) {
    Own();
    owned_.reserve(n);
  }
  void push_back(float v) {
    Own();
    owned_.push_back(v);
  }
  void clear() {
    Release();
    owned_.clear();
  }

  std::vector<float> ToVector() const { return std::vector<float>(begin(), end()); }

  friend bool operator==(const FloatArray& a, const FloatArray& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  // Moves viewed values into owned storage.
  void Own() {
    if (!block_) return;
    owned_.assign(view_, view_ + view_size_);
    Release();
  }
  void Release() {
    block_.reset();
    view_ = nullptr;
    view_size_ = 0;
  }
  void Take(FloatArray& other) noexcept {
    owned_ = std::move(other.owned_);
    other.owned_.clear();
    block_ = std::move(other.block_);
    view_ = std::exchange(other.view_, nullptr);
    view_size_ = std::exchange(other.view_size_, 0);
  }

  std::vector<float> owned_;
  std::shared_ptr<void> block_;  // non-null: the values are view_[0, view_size_)
  float* view_ = nullptr;
  size_t view_size_ = 0;
};

}  // namespace grapevine::proto
