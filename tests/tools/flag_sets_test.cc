// tools/flag_sets.h: help and checks come from the tables, and --order says where a
// kind works.
#include "tools/flag_sets.h"

#include <gtest/gtest.h>

#include "agent/algorithms/registry.h"

namespace grapevine::tools {
namespace {

TEST(FlagSetsTest, AlgoHelpAndCheckListEveryAlgorithm) {
  for (const auto& a : agent::algorithms::AllAlgorithms()) {
    const std::string name(a.name);
    EXPECT_NE(FlagSet::Algo().help().find(name), std::string::npos) << name;
    EXPECT_TRUE(FlagSet::Algo().Check(name).ok()) << name;
  }
  EXPECT_NE(FlagSet::Algo().help().find("cga"), std::string::npos);
  Status bad = FlagSet::Algo().Check("sgdx");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("cga"), std::string::npos) << bad.message();
}

TEST(FlagSetsTest, OrderListsWhatWorksWhere) {
  for (auto site : {learn::OrderSite::kTrain, learn::OrderSite::kAgent}) {
    const FlagSet& set = FlagSet::Order(site);
    for (const auto& k : learn::AllOrderKinds()) {
      const std::string name(k.name);
      const bool listed = set.help().find(name + " (") != std::string::npos;
      EXPECT_EQ(listed, learn::AvailableAt(k, site)) << name << ": " << set.help();
      EXPECT_EQ(set.Check(name).ok(), learn::AvailableAt(k, site)) << name;
    }
    EXPECT_TRUE(set.Check("rr").ok());
    EXPECT_TRUE(set.Check("grab").ok());
  }
  Status cd = FlagSet::Order(learn::OrderSite::kAgent).Check("cd-grab");
  ASSERT_FALSE(cd.ok());
  EXPECT_NE(cd.message().find("not available in a swarm agent"), std::string::npos)
      << cd.message();
  EXPECT_NE(cd.message().find("(here: rr, grab)"), std::string::npos) << cd.message();
  Status unknown = FlagSet::Order(learn::OrderSite::kTrain).Check("sorted");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("rr, grab or cd-grab"), std::string::npos)
      << unknown.message();
}

TEST(FlagSetsTest, PartitionScheduleOptimizerFromTheirTables) {
  EXPECT_EQ(FlagSet::Partition().help(),
            "iid | dirichlet:ALPHA | classes[:K] | shards (docs/data.md)");
  EXPECT_TRUE(FlagSet::Partition().Check("dirichlet:0.5").ok());
  EXPECT_TRUE(FlagSet::Partition().Check("classes").ok());
  Status p = FlagSet::Partition().Check("dirichlet");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.message().find("expected iid, dirichlet:ALPHA, classes[:K] or shards"),
            std::string::npos)
      << p.message();

  EXPECT_NE(FlagSet::Schedule().help().find("step:FACTOR[:EVERY]"), std::string::npos);
  EXPECT_TRUE(FlagSet::Schedule().Check("step:0.5:2").ok());
  EXPECT_FALSE(FlagSet::Schedule().Check("linear").ok());

  EXPECT_NE(FlagSet::Sampling().help().find("fixed ("), std::string::npos)
      << FlagSet::Sampling().help();
  EXPECT_TRUE(FlagSet::Sampling().Check("fixed").ok());
  EXPECT_FALSE(FlagSet::Sampling().Check("ugs:2").ok());

  EXPECT_EQ(FlagSet::Optimizer().help(), "sgd | adam | adamw");
  EXPECT_TRUE(FlagSet::Optimizer().Check("adamw").ok());
  Status o = FlagSet::Optimizer().Check("rmsprop");
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.message().find("expected sgd, adam or adamw"), std::string::npos) << o.message();
}

}  // namespace
}  // namespace grapevine::tools
