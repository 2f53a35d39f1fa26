// The registry of training algorithms: every row is complete, every declared option
// validates its default, lookups name the allowed set from the table.
#include "agent/algorithms/registry.h"

#include <gtest/gtest.h>

#include <set>

#include "agent/algorithms/algorithm.h"

namespace grapevine::agent::algorithms {
namespace {

TEST(RegistryTest, DefaultIsListedFirst) {
  ASSERT_FALSE(AllAlgorithms().empty());
  EXPECT_EQ(AllAlgorithms()[0].name, kDefaultAlgo);
  auto d = FindAlgorithm(kDefaultAlgo);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->optimizer_policy, OptimizerPolicy::kReset);
}

TEST(RegistryTest, EveryRowIsCompleteAndMakesItsAlgorithm) {
  std::set<std::string_view> names;
  for (const AlgoSpec& a : AllAlgorithms()) {
    EXPECT_TRUE(names.insert(a.name).second) << "duplicate " << a.name;
    EXPECT_FALSE(a.summary.empty()) << a.name;
    EXPECT_TRUE(a.default_init == "shared" || a.default_init == "per-node") << a.name;
    ASSERT_NE(a.factory, nullptr) << a.name;
    auto options = ResolveOptions(a, {});
    ASSERT_TRUE(options.ok()) << a.name << ": " << options.status().ToString();
    EXPECT_NE(a.factory(*options), nullptr) << a.name;
  }
}

TEST(RegistryTest, EveryDeclaredOptionValidatesItsDefault) {
  const auto options = AllOptions();
  EXPECT_FALSE(options.empty());
  for (const DeclaredOption& d : options) {
    EXPECT_EQ(d.spec->validate(std::string(d.spec->default_value)), "") << d.spec->name;
    EXPECT_FALSE(d.spec->help.empty()) << d.spec->name;
    EXPECT_FALSE(d.used_by.empty()) << d.spec->name;
  }
}

TEST(RegistryTest, UnknownNameListsTheAllowedSetFromTheTable) {
  auto r = FindAlgorithm("sgd");
  ASSERT_FALSE(r.ok());
  for (const AlgoSpec& a : AllAlgorithms()) {
    EXPECT_NE(r.status().message().find(std::string(a.name)), std::string::npos) << a.name;
  }
  EXPECT_EQ(AlgorithmNames(", ").find(std::string(AllAlgorithms()[0].name)), 0u);
}

TEST(RegistryTest, InitDefaultsDependOnTheAlgorithm) {
  EXPECT_EQ(*ResolveInit(*FindAlgorithm("dimat"), ""), "per-node");
  EXPECT_EQ(*ResolveInit(*FindAlgorithm("wm"), ""), "per-node");
  for (const char* name : {"wa", "dpsgd", "cdsgd", "lasgd", "local", "sgp", "cga"}) {
    EXPECT_EQ(*ResolveInit(*FindAlgorithm(name), ""), "shared") << name;
  }
  EXPECT_EQ(*ResolveInit(*FindAlgorithm("dimat"), "shared"), "shared");
  EXPECT_FALSE(ResolveInit(*FindAlgorithm("wa"), "random").ok());
}

TEST(RegistryTest, OptionsAreCheckedByTheirDeclaredValidators) {
  const AlgoSpec lasgd = *FindAlgorithm("lasgd");
  auto ok = ResolveOptions(lasgd, {{"merge-every", "4"}, {"dimat-repair", "every"}});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->Int("merge-every"), 4);

  auto defaults = ResolveOptions(lasgd, {});
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->Int("merge-every"), 0);

  const std::pair<std::map<std::string, std::string>, std::string> bad[] = {
      {{{"merge-every", "-1"}}, "--merge-every: must be >= 0, not -1"},
      {{{"merge-every", "2.5"}}, "--merge-every: must be an integer, not '2.5'"},
      {{{"probe-samples", "0"}}, "--probe-samples: must be positive, not 0"},
      {{{"dimat-weight-prior", "-1"}}, "--dimat-weight-prior: must be >= 0, not -1"},
      {{{"dimat-repair", "yes"}}, "--dimat-repair: yes not in {off,matched,every}"},
      {{{"no-such-knob", "1"}}, "unknown algorithm option --no-such-knob"},
  };
  for (const auto& [given, message] : bad) {
    auto r = ResolveOptions(lasgd, given);
    ASSERT_FALSE(r.ok()) << message;
    EXPECT_EQ(r.status().message(), message);
  }
}

TEST(RegistryTest, OnlyDirectedRowsTakeDigraphsAndChannelsAreDeclared) {
  EXPECT_TRUE(FindAlgorithm("sgp")->directed);
  EXPECT_TRUE(FindAlgorithm("sgp")->channels.has(Channel::kPushShare));
  EXPECT_FALSE(FindAlgorithm("sgp")->channels.has(Channel::kModelGossip));
  EXPECT_FALSE(FindAlgorithm("wa")->directed);
  EXPECT_TRUE(FindAlgorithm("local")->directed);  // no traffic: any graph
  EXPECT_TRUE(FindAlgorithm("cga")->channels.has(Channel::kCrossGradientReply));
  EXPECT_TRUE(FindAlgorithm("local")->channels.empty());
}

}  // namespace
}  // namespace grapevine::agent::algorithms
