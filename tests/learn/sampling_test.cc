#include "learn/sampling.h"

#include <gtest/gtest.h>

namespace grapevine::learn {
namespace {

TEST(SamplingTest, FixedRunsLocalStepsEveryRound) {
  auto s = ParseSampling("fixed", {.local_steps = 7});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  for (uint64_t r : {0u, 1u, 99u}) EXPECT_EQ((*s)->Plan(r).steps, 7);
  EXPECT_EQ((*s)->ExamplesInRounds(3, 16), 3 * 7 * 16);
  EXPECT_EQ((*s)->ExamplesInRounds(0, 16), 0);
}

TEST(SamplingTest, UnknownFormsNameTheAllowedSet) {
  for (const char* bad : {"", "ugs:", "Fixed", "fixed:3"}) {
    auto s = ParseSampling(bad, {.local_steps = 1});
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("expected fixed"), std::string::npos)
        << s.status().message();
  }
  EXPECT_FALSE(ParseSampling("fixed", {.local_steps = 0}).ok());
}

TEST(SamplingTest, EveryFormInTheTableParses) {
  for (const auto& f : AllSamplingForms()) {
    EXPECT_TRUE(ParseSampling(std::string(f.syntax), {.local_steps = 2}).ok()) << f.syntax;
  }
}

}  // namespace
}  // namespace grapevine::learn
