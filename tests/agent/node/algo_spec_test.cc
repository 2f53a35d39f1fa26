#include "agent/core/algorithms/algo_spec.h"

#include <gtest/gtest.h>

namespace grapevine::agent::algorithms {
namespace {

TEST(AlgoSpecTest, DefaultIsDimatAndListedFirst) {
  ASSERT_FALSE(AllAlgorithms().empty());
  EXPECT_EQ(AllAlgorithms()[0].name, kDefaultAlgo);
  auto d = FindAlgorithm("dimat");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->optimizer_policy, OptimizerPolicy::kReset);
}

TEST(AlgoSpecTest, UnknownNameListsTheAllowedSet) {
  auto r = FindAlgorithm("sgd");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("dimat"), std::string::npos);
}

TEST(AlgoSpecTest, InitDefaultsDependOnTheAlgorithm) {
  EXPECT_EQ(*ResolveInit(*FindAlgorithm("dimat"), ""), "per-node");
  EXPECT_EQ(*ResolveInit(*FindAlgorithm("wm"), ""), "per-node");
  for (const char* name : {"wa", "dpsgd", "cdsgd", "lasgd", "local"}) {
    EXPECT_EQ(*ResolveInit(*FindAlgorithm(name), ""), "shared") << name;
  }
  EXPECT_EQ(*ResolveInit(*FindAlgorithm("dimat"), "shared"), "shared");
  EXPECT_FALSE(ResolveInit(*FindAlgorithm("wa"), "random").ok());
}

}  // namespace
}  // namespace grapevine::agent::algorithms
