#include <gtest/gtest.h>

#include "topology/dot.h"
#include "topology/edge_list.h"
#include "topology/validate.h"
#include "test_util.h"

namespace grapevine::topology {
namespace {

std::vector<Issue> Check(const std::string& dot, WeightsKind kind = WeightsKind::kMetropolis,
                         bool disconnected_is_error = true) {
  std::vector<Issue> issues;
  Result<Topology> t = ReadDot(dot, "t.dot", &issues);
  EXPECT_TRUE(t.ok()) << t.status().message();
  std::vector<Issue> more = Validate(*t, ValidateOptions{kind, disconnected_is_error});
  issues.insert(issues.end(), more.begin(), more.end());
  return issues;
}

TEST(ValidateTest, CleanFileHasNoIssues) {
  std::vector<Issue> issues = Check(
      "graph {\n 0 [addr=\"127.0.0.1:47000\"]\n 1 [addr=\"127.0.0.1:47001\"]\n"
      " 2 [addr=\"localhost:47002\"]\n 0 -- 1 -- 2 -- 0\n}");
  EXPECT_TRUE(issues.empty()) << FormatIssues("t.dot", issues);
}

TEST(ValidateTest, SelfLoopAndDuplicateEdgeNameTheirLines) {
  std::vector<Issue> issues = Check("graph {\n a -- b\n b -- b\n b -- a\n a -- c\n}");
  EXPECT_TRUE(HasIssue(issues, "self-loop on node b", 3)) << FormatIssues("t.dot", issues);
  EXPECT_TRUE(HasIssue(issues, "duplicate edge b -- a (first at line 2)", 4))
      << FormatIssues("t.dot", issues);
  EXPECT_TRUE(HasErrors(issues));
}

TEST(ValidateTest, DigraphEdgesInBothDirectionsAreNotDuplicates) {
  std::vector<Issue> issues = Check("digraph { a -> b; b -> a }", WeightsKind::kUniform);
  EXPECT_FALSE(HasErrors(issues)) << FormatIssues("t.dot", issues);
}

TEST(ValidateTest, AddressProblems) {
  std::vector<Issue> issues = Check(
      "graph {\n a [addr=\"127.0.0.1:47000\"]\n b [addr=\"127.0.0.1:47000\"]\n"
      " c [addr=\"127.0.0.1\"]\n d [addr=\"127.0.0.1:70000\"]\n e [addr=\"bad host:1\"]\n"
      " f\n a -- b -- c -- d -- e -- f\n}");
  EXPECT_TRUE(HasIssue(issues, "duplicate addr 127.0.0.1:47000: nodes a and b", 3))
      << FormatIssues("t.dot", issues);
  EXPECT_TRUE(HasIssue(issues, "missing ':port'", 4));
  EXPECT_TRUE(HasIssue(issues, "port '70000' is not a number in 1..65535", 5));
  EXPECT_TRUE(HasIssue(issues, "bad character ' ' in host", 6));
  EXPECT_TRUE(HasIssue(issues, "node f has no addr", 7));
}

TEST(ValidateTest, NoAddrAtAllIsOneWarning) {
  std::vector<Issue> issues = Check("graph { a -- b }");
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_EQ(issues[0].severity, Severity::kWarning);
  EXPECT_FALSE(HasErrors(issues));
}

TEST(ValidateTest, NegativeAndNonNumericWeights) {
  std::vector<Issue> issues = Check("graph {\n a -- b [weight=-0.5]\n b -- c [weight=abc]\n}");
  EXPECT_TRUE(HasIssue(issues, "negative weight -0.5 on edge a -- b", 2));
  EXPECT_TRUE(HasIssue(issues, "'abc' is not a number", 3));
}

TEST(ValidateTest, FileWeightsNotStochastic) {
  std::vector<Issue> issues =
      Check("graph {\n a -- b [weight=0.6]\n a -- c [weight=0.6]\n b -- c [weight=0.1]\n}",
            WeightsKind::kFile);
  EXPECT_TRUE(HasIssue(issues, "weights into node a sum to 1.2 > 1")) << FormatIssues("t.dot", issues);
  // The same file is fine with computed weights.
  EXPECT_FALSE(HasErrors(Check("graph {\n a -- b [weight=0.6]\n a -- c [weight=0.6]\n b -- c\n}")));
}

TEST(ValidateTest, EmptyGraph) {
  std::vector<Issue> issues = Check("graph { }");
  EXPECT_TRUE(HasIssue(issues, "empty graph"));
  issues.clear();
  Result<Topology> t = ReadEdgeList("# nothing here\n", "t.edges", &issues);
  EXPECT_TRUE(HasErrors(Validate(*t, {})));
}

TEST(ValidateTest, DisconnectedIsAnErrorForCheckAndAWarningForInspect) {
  const std::string dot = "graph { a -- b; c -- d; e }";
  std::vector<Issue> check = Check(dot, WeightsKind::kMetropolis, true);
  EXPECT_TRUE(HasIssue(check, "disconnected: 3 components"));
  EXPECT_TRUE(HasErrors(check));
  std::vector<Issue> inspect = Check(dot, WeightsKind::kMetropolis, false);
  EXPECT_TRUE(HasIssue(inspect, "disconnected"));
  EXPECT_FALSE(HasErrors(inspect));
}

TEST(ValidateTest, DigraphMustBeStronglyConnected) {
  std::vector<Issue> issues = Check("digraph { a -> b -> c }", WeightsKind::kUniform);
  EXPECT_TRUE(HasIssue(issues, "not strongly connected"));
  // a reaches everyone; b is the first that cannot reach a back.
  EXPECT_TRUE(HasIssue(issues, "node b cannot reach node a")) << FormatIssues("t.dot", issues);
  issues = Check("digraph {\n a\n b -> a\n c -> a\n}", WeightsKind::kPushSum);
  EXPECT_TRUE(HasIssue(issues, "node a cannot reach node b", 2)) << FormatIssues("t.dot", issues);
  EXPECT_TRUE(HasErrors(issues));
}

TEST(ValidateTest, DirectedMetropolisIsAnError) {
  std::vector<Issue> issues = Check("digraph { a -> b -> a }", WeightsKind::kMetropolis);
  EXPECT_TRUE(HasIssue(issues, "do not exist for a digraph"));
  EXPECT_TRUE(HasIssue(issues, "use --weights push-sum"));
  EXPECT_TRUE(HasErrors(issues));
}

TEST(ValidateTest, FormatIssueShowsFileAndLine) {
  EXPECT_EQ(FormatIssue("t.dot", Issue{Severity::kError, 3, "boom"}), "t.dot:3: error: boom");
  EXPECT_EQ(FormatIssue("t.dot", Issue{Severity::kWarning, 0, "hm"}), "t.dot: warning: hm");
}

}  // namespace
}  // namespace grapevine::topology
