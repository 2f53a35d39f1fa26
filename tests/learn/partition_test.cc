// Partitioning: disjoint, covering, deterministic, non-empty for every kind; the exact
// class layouts of classes:K; dirichlet skew grows as alpha shrinks.
#include "learn/partition.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "learn/order.h"

namespace grapevine::learn {
namespace {

constexpr int kClasses = 10;

std::vector<int32_t> RandomLabels(size_t n, int classes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int32_t> labels(n);
  for (auto& y : labels)
    y = static_cast<int32_t>(UniformBelow(rng, static_cast<uint64_t>(classes)));
  return labels;
}

std::set<int32_t> ClassesOf(const std::vector<int64_t>& shard, const std::vector<int32_t>& labels) {
  std::set<int32_t> out;
  for (int64_t i : shard) out.insert(labels[static_cast<size_t>(i)]);
  return out;
}

// Every node computes its own shard; together they must cover each index exactly once.
void ExpectValidPartition(const std::vector<int32_t>& labels, const std::string& spec, int nodes,
                          uint64_t seed) {
  SCOPED_TRACE(spec + " nodes=" + std::to_string(nodes) + " seed=" + std::to_string(seed));
  std::vector<int> owner(labels.size(), -1);
  for (int node = 0; node < nodes; ++node) {
    auto shard = PartitionIndices(labels, kClasses, spec, node, nodes, seed);
    ASSERT_TRUE(shard.ok()) << shard.status().ToString();
    EXPECT_FALSE(shard->empty()) << "node " << node;
    EXPECT_TRUE(std::is_sorted(shard->begin(), shard->end()));
    for (int64_t i : *shard) {
      ASSERT_GE(i, 0);
      ASSERT_LT(i, static_cast<int64_t>(labels.size()));
      EXPECT_EQ(owner[static_cast<size_t>(i)], -1) << "index " << i << " given twice";
      owner[static_cast<size_t>(i)] = node;
    }
    auto again = PartitionIndices(labels, kClasses, spec, node, nodes, seed);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(*again, *shard) << "not deterministic";
  }
  EXPECT_EQ(std::count(owner.begin(), owner.end(), -1), 0) << "not covering";
}

TEST(PartitionTest, EveryKindIsDisjointCoveringDeterministicAndNonEmpty) {
  const std::vector<int32_t> labels = RandomLabels(3000, kClasses, 1);
  for (const char* spec :
       {"iid", "dirichlet:0.1", "dirichlet:1", "dirichlet:100", "shards", "classes", "classes:1"}) {
    for (int nodes : {1, 3, 8, 20}) {
      if (std::string(spec) == "classes:1" && nodes < kClasses) continue;  // would not cover
      for (uint64_t seed : {1u, 42u}) ExpectValidPartition(labels, spec, nodes, seed);
    }
  }
  ExpectValidPartition(labels, "classes:2", 5, 3);
  ExpectValidPartition(labels, "classes:3", 7, 3);
  ExpectValidPartition(labels, "classes:10", 4, 3);
}

TEST(PartitionTest, ClassesKGivesEveryNodeKDistinctClasses) {
  const std::vector<int32_t> labels = RandomLabels(3000, kClasses, 10);
  for (int nodes : {3, 4, 5, 6, 7, 12}) {
    for (int k = (kClasses + nodes - 1) / nodes; k <= kClasses; ++k) {
      const std::string spec = "classes:" + std::to_string(k);
      auto all = PartitionAll(labels, kClasses, *ParsePartition(spec), nodes, 1);
      ASSERT_TRUE(all.ok()) << spec << " nodes=" << nodes << ": " << all.status().ToString();
      for (const auto& shard : *all) {
        EXPECT_EQ(ClassesOf(shard, labels).size(), static_cast<size_t>(k))
            << spec << " nodes=" << nodes;
      }
    }
  }
}

TEST(PartitionTest, SeedChangesTheShards) {
  const std::vector<int32_t> labels = RandomLabels(1000, kClasses, 2);
  for (const char* spec : {"iid", "dirichlet:0.5", "shards", "classes"}) {
    // With 20 nodes every class is shared by two nodes, so "classes" depends on the seed too.
    auto a = PartitionIndices(labels, kClasses, spec, 0, 20, 1);
    auto b = PartitionIndices(labels, kClasses, spec, 0, 20, 2);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_NE(*a, *b) << spec;
  }
}

TEST(PartitionTest, IidSlicesAreNearEqualAndMixed) {
  const std::vector<int32_t> labels = RandomLabels(1003, kClasses, 3);
  auto all = PartitionAll(labels, kClasses, *ParsePartition("iid"), 4, 9);
  ASSERT_TRUE(all.ok());
  for (const auto& shard : *all) {
    EXPECT_GE(shard.size(), 250u);
    EXPECT_LE(shard.size(), 251u);
    EXPECT_EQ(ClassesOf(shard, labels).size(), 10u);
  }
}

TEST(PartitionTest, ClassesTwoOverFiveNodesIsDimatsSplit) {
  const std::vector<int32_t> labels = RandomLabels(2000, kClasses, 4);
  for (const char* spec : {"classes:2", "classes"}) {
    for (int node = 0; node < 5; ++node) {
      auto shard = PartitionIndices(labels, kClasses, spec, node, 5, 7);
      ASSERT_TRUE(shard.ok());
      EXPECT_EQ(ClassesOf(*shard, labels), (std::set<int32_t>{node, node + 5})) << spec;
    }
  }
}

TEST(PartitionTest, TenClassesOverTwentyNodesSplitEachClassEvenly) {
  const std::vector<int32_t> labels = RandomLabels(4000, kClasses, 5);
  auto all = PartitionAll(labels, kClasses, *ParsePartition("classes:1"), 20, 7);
  ASSERT_TRUE(all.ok());
  for (int node = 0; node < 20; ++node) {
    const auto& shard = (*all)[static_cast<size_t>(node)];
    EXPECT_EQ(ClassesOf(shard, labels), (std::set<int32_t>{node % 10}));
    const auto& twin = (*all)[static_cast<size_t>((node + 10) % 20)];
    EXPECT_LE(std::max(shard.size(), twin.size()) - std::min(shard.size(), twin.size()), 1u);
  }
  auto implicit = PartitionAll(labels, kClasses, *ParsePartition("classes"), 20, 7);
  ASSERT_TRUE(implicit.ok());
  EXPECT_EQ(*implicit, *all);
}

TEST(PartitionTest, ShardsGiveEachNodeFewClasses) {
  std::vector<int32_t> labels = RandomLabels(2000, kClasses, 6);
  auto all = PartitionAll(labels, kClasses, *ParsePartition("shards"), 10, 3);
  ASSERT_TRUE(all.ok());
  for (const auto& shard : *all) {
    EXPECT_GE(shard.size(), 200u);
    EXPECT_LE(shard.size(), 201u);
    EXPECT_LE(ClassesOf(shard, labels).size(), 4u);
  }
}

// Label skew: mean over nodes of the total-variation distance between the node's class
// histogram and the global one.
double Skew(const std::vector<int32_t>& labels, const std::vector<std::vector<int64_t>>& shards) {
  std::vector<double> global(kClasses, 0.0);
  for (int32_t y : labels)
    global[static_cast<size_t>(y)] += 1.0 / static_cast<double>(labels.size());
  double total = 0.0;
  for (const auto& shard : shards) {
    std::vector<double> local(kClasses, 0.0);
    for (int64_t i : shard) local[static_cast<size_t>(labels[static_cast<size_t>(i)])] += 1.0;
    double tv = 0.0;
    for (int c = 0; c < kClasses; ++c) {
      tv += std::abs(local[static_cast<size_t>(c)] / static_cast<double>(shard.size()) -
                     global[static_cast<size_t>(c)]);
    }
    total += tv / 2.0;
  }
  return total / static_cast<double>(shards.size());
}

TEST(PartitionTest, DirichletSkewGrowsAsAlphaShrinks) {
  const std::vector<int32_t> labels = RandomLabels(10000, kClasses, 7);
  std::vector<double> skews;
  for (const char* spec : {"dirichlet:1000", "dirichlet:1", "dirichlet:0.1", "dirichlet:0.01"}) {
    double mean_skew = 0.0;
    for (uint64_t seed = 1; seed <= 3; ++seed) {
      auto all = PartitionAll(labels, kClasses, *ParsePartition(spec), 10, seed);
      ASSERT_TRUE(all.ok());
      mean_skew += Skew(labels, *all) / 3.0;
    }
    skews.push_back(mean_skew);
  }
  EXPECT_LT(skews[0], 0.05);  // nearly iid
  EXPECT_GT(skews[1], skews[0] + 0.1);
  EXPECT_GT(skews[2], skews[1] + 0.1);
  EXPECT_GT(skews[3], skews[2] + 0.02);
}

TEST(PartitionTest, DirichletRepairsEmptyNodes) {
  // Tiny alpha with more nodes than classes leaves nodes empty before the repair.
  const std::vector<int32_t> labels = RandomLabels(200, kClasses, 8);
  for (uint64_t seed = 1; seed <= 5; ++seed)
    ExpectValidPartition(labels, "dirichlet:0.0001", 30, seed);
}

TEST(PartitionTest, ParserValidatesSpecs) {
  EXPECT_EQ(ParsePartition("dirichlet:0.5")->alpha, 0.5);
  EXPECT_EQ(ParsePartition("classes:3")->classes_per_node, 3);
  EXPECT_EQ(ParsePartition("dirichlet:0.5")->ToString(), "dirichlet:0.5");
  for (const char* bad : {"", "random", "iid:2", "dirichlet", "dirichlet:", "dirichlet:0",
                          "dirichlet:-1", "dirichlet:abc", "dirichlet:1e-300", "dirichlet:1e9",
                          "classes:0", "classes:1.5", "classes:x", "shards:3"}) {
    EXPECT_FALSE(ParsePartition(bad).ok()) << bad;
  }
}

TEST(PartitionTest, ImpossibleRequestsAreErrorsNotCrashes) {
  const std::vector<int32_t> labels = RandomLabels(100, kClasses, 9);
  auto too_few = PartitionIndices(labels, kClasses, "iid", 0, 101, 1);
  EXPECT_FALSE(too_few.ok());
  EXPECT_FALSE(PartitionIndices(labels, kClasses, "shards", 0, 51, 1).ok());
  EXPECT_FALSE(PartitionIndices(labels, kClasses, "iid", 4, 4, 1).ok());
  EXPECT_FALSE(PartitionIndices(labels, kClasses, "iid", 0, 0, 1).ok());
  EXPECT_FALSE(PartitionIndices(labels, 5, "iid", 0, 2, 1).ok());  // labels >= 5
  auto uncovered = PartitionIndices(labels, kClasses, "classes:1", 0, 5, 1);
  ASSERT_FALSE(uncovered.ok());
  EXPECT_NE(uncovered.status().message().find("covers only 5 of 10"), std::string::npos);
  auto too_many = PartitionIndices(labels, kClasses, "classes:11", 0, 5, 1);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("only 10 classes"), std::string::npos);
  // A class with fewer examples than the nodes that share it leaves a node empty.
  const std::vector<int32_t> sparse = {0, 0, 0, 1};
  EXPECT_FALSE(PartitionIndices(sparse, 2, "classes", 0, 4, 1).ok());
}

}  // namespace
}  // namespace grapevine::learn
