// FloatArray: the std::vector<float> surface agent code relies on, and the rules of
// views (own range, deep copies, size changes move values into owned storage).
#include "proto/float_array.h"

#include <gtest/gtest.h>

#include <memory>
#include <numeric>
#include <span>
#include <vector>

namespace grapevine::proto {
namespace {

TEST(FloatArrayTest, BehavesLikeAVector) {
  FloatArray a;
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(a.size(), 0u);
  a.resize(3);
  EXPECT_EQ(a, (std::vector<float>{0, 0, 0}));
  a[1] = 2.5f;
  a.push_back(4.0f);
  EXPECT_EQ(a.size(), 4u);
  EXPECT_EQ(a.back(), 4.0f);
  EXPECT_EQ(std::accumulate(a.begin(), a.end(), 0.0f), 6.5f);
  const std::vector<float> src = {1, 2, 3, 4, 5};
  a.assign(src.data() + 1, src.data() + 4);
  EXPECT_EQ(a, (std::vector<float>{2, 3, 4}));
  a.assign(2, 7.0f);
  EXPECT_EQ(a.ToVector(), (std::vector<float>{7, 7}));
  a = src;  // from a vector
  EXPECT_EQ(a.size(), 5u);
  std::span<const float> s = a;  // what ContentHash takes
  EXPECT_EQ(s.data(), a.data());
  a.resize(6, 9.0f);
  EXPECT_EQ(a[5], 9.0f);
  a.clear();
  EXPECT_TRUE(a.empty());
  EXPECT_FALSE(a.is_view());
}

struct ViewFixture {
  std::shared_ptr<std::vector<float>> block =
      std::make_shared<std::vector<float>>(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7});
  // Views elements [2, 6) of the block.
  FloatArray View() { return FloatArray::View(block, block->data() + 2, 4); }
};

TEST(FloatArrayTest, ViewReadsAndWritesItsOwnRange) {
  ViewFixture f;
  FloatArray v = f.View();
  EXPECT_TRUE(v.is_view());
  EXPECT_EQ(f.block.use_count(), 2);
  EXPECT_EQ(v, (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ(v.data(), f.block->data() + 2);
  v[0] = -2.0f;
  EXPECT_EQ((*f.block)[2], -2.0f);
  EXPECT_EQ((*f.block)[1], 1.0f);
}

TEST(FloatArrayTest, CopiesOfAViewAreDeep) {
  ViewFixture f;
  FloatArray v = f.View();
  FloatArray c(v);
  EXPECT_FALSE(c.is_view());
  EXPECT_EQ(c, v);
  c[0] = 100.0f;
  EXPECT_EQ(v[0], 2.0f);
  FloatArray d;
  d = v;
  EXPECT_FALSE(d.is_view());
  EXPECT_EQ(f.block.use_count(), 2);  // only `v`
}

TEST(FloatArrayTest, MovesKeepTheViewAndEmptyTheSource) {
  ViewFixture f;
  FloatArray v = f.View();
  FloatArray m(std::move(v));
  EXPECT_TRUE(m.is_view());
  EXPECT_TRUE(v.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_FALSE(v.is_view());
  FloatArray n;
  n = std::move(m);
  EXPECT_EQ(n, (std::vector<float>{2, 3, 4, 5}));
  EXPECT_EQ(f.block.use_count(), 2);
  n = FloatArray{1.0f};
  EXPECT_EQ(f.block.use_count(), 1);
}

TEST(FloatArrayTest, SizeChangesMoveViewedValuesIntoOwnStorage) {
  ViewFixture f;
  FloatArray v = f.View();
  v.resize(6);
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(v, (std::vector<float>{2, 3, 4, 5, 0, 0}));
  EXPECT_EQ(f.block.use_count(), 1);

  FloatArray w = f.View();
  w.push_back(8.0f);
  EXPECT_EQ(w, (std::vector<float>{2, 3, 4, 5, 8}));
  w[0] = 50.0f;  // own storage now: the block is untouched
  EXPECT_EQ((*f.block)[2], 2.0f);

  // assign() from a range inside the view itself.
  FloatArray x = f.View();
  x.assign(x.begin() + 1, x.end());
  EXPECT_FALSE(x.is_view());
  EXPECT_EQ(x, (std::vector<float>{3, 4, 5}));
  EXPECT_EQ(f.block.use_count(), 1);
}

TEST(FloatArrayTest, EmptyViewHoldsNothing) {
  ViewFixture f;
  FloatArray v = FloatArray::View(f.block, f.block->data(), 0);
  EXPECT_TRUE(v.empty());
  EXPECT_FALSE(v.is_view());
  EXPECT_EQ(f.block.use_count(), 1);
}

}  // namespace
}  // namespace grapevine::proto
