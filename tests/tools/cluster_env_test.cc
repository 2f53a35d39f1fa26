// tools/cluster_env.h: Slurm host lists and tasks-per-node counts, as Slurm documents
// them (srun(1), scontrol(1) `show hostnames`; the expected expansions are what
// `scontrol show hostnames` of Slurm 22.05 prints), block placement and the allocation
// read from an environment.
#include "tools/cluster_env.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace grapevine::tools {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Hosts(const std::string& list) {
  auto hosts = ExpandHostList(list);
  EXPECT_TRUE(hosts.ok()) << list << ": " << hosts.status().message();
  return hosts.ok() ? *hosts : std::vector<std::string>{};
}

// The error of a parse that must fail ("" and a test failure when it succeeded).
template <typename T>
std::string ErrorOf(const Result<T>& result, const std::string& input) {
  EXPECT_FALSE(result.ok()) << input << " was accepted";
  return result.ok() ? "" : result.status().message();
}


TEST(HostListTest, ExpandsRangesAndSingleNames) {
  EXPECT_THAT(Hosts("vm"), ElementsAre("vm"));
  EXPECT_THAT(Hosts("node[01-04,07]"),
              ElementsAre("node01", "node02", "node03", "node04", "node07"));
  EXPECT_THAT(Hosts("a,b[1-3],c"), ElementsAre("a", "b1", "b2", "b3", "c"));
  EXPECT_THAT(Hosts("tux[0-2,12]"), ElementsAre("tux0", "tux1", "tux2", "tux12"));
  EXPECT_THAT(Hosts("x[8-11]"), ElementsAre("x8", "x9", "x10", "x11"));
  EXPECT_THAT(Hosts("n[1-2],m[5]"), ElementsAre("n1", "n2", "m5"));
  EXPECT_THAT(Hosts("n[1,1]"), ElementsAre("n1", "n1"));  // as Slurm: not made unique
}

TEST(HostListTest, ARangeKeepsTheWidthOfItsLowerBound) {
  EXPECT_THAT(Hosts("n[09-11]"), ElementsAre("n09", "n10", "n11"));
  EXPECT_THAT(Hosts("n[01-3]"), ElementsAre("n01", "n02", "n03"));
  EXPECT_THAT(Hosts("n[9-011]"), ElementsAre("n9", "n10", "n11"));
  EXPECT_THAT(Hosts("n[008-010]"), ElementsAre("n008", "n009", "n010"));
}

TEST(HostListTest, SeveralBracketGroupsAreTheirProduct) {
  EXPECT_THAT(Hosts("rack[1-2]-n[1-2]"),
              ElementsAre("rack1-n1", "rack1-n2", "rack2-n1", "rack2-n2"));
  EXPECT_THAT(Hosts("r[0-1]c[08-09]"), ElementsAre("r0c08", "r0c09", "r1c08", "r1c09"));
}

TEST(HostListTest, WhitespaceSeparatesLikeAComma) {
  EXPECT_THAT(Hosts("a b"), ElementsAre("a", "b"));
  EXPECT_THAT(Hosts("a , b[1-2]\tc"), ElementsAre("a", "b1", "b2", "c"));
}

// Input and a part of its error, as a table: each must be rejected with that reason.
using ErrorCases = std::vector<std::pair<std::string, std::string>>;

template <typename Parse>
void ExpectEachRejected(const ErrorCases& cases, Parse parse) {
  for (const auto& [input, reason] : cases) {
    EXPECT_THAT(ErrorOf(parse(input), input), HasSubstr(reason)) << input;
  }
}

TEST(HostListTest, RejectsMalformedListsWithTheReason) {
  ExpectEachRejected({
      {"", "no host names"},
      {"n[1-3", "'[' without ']'"},
      {"n1]", "']' without '['"},
      {"n[1-[2]]", "nested '['"},
      {"n[3-1]", "runs backwards"},
      {"n[]", "bad range ''"},
      {"n[a-b]", "bad range 'a-b'"},
      {"n[1-]", "bad range '1-'"},
      {"n[-2]", "bad range '-2'"},
      {"n[1-3]-ib", "after the last ']'"},
      {"a,,b", "empty host name"},
      {",a", "empty host name"},
      {"a,", "ends with ','"},
      {"n[0-999999999]", "more than"},
      {"a[0-9999]b[0-9999]", "more than"},
  }, ExpandHostList);
}

TEST(TasksPerNodeTest, ExpandsCountsAndRepetitions) {
  auto counts = ExpandTasksPerNode("2(x3),1");  // srun(1)'s example
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_THAT(*counts, ElementsAre(2, 2, 2, 1));
  EXPECT_THAT(*ExpandTasksPerNode("8"), ElementsAre(8));
  EXPECT_THAT(*ExpandTasksPerNode("1,3,1"), ElementsAre(1, 3, 1));
  EXPECT_THAT(*ExpandTasksPerNode("4(x2)"), ElementsAre(4, 4));
  EXPECT_THAT(*ExpandTasksPerNode("1(x1),2(x2)"), ElementsAre(1, 2, 2));
}

TEST(TasksPerNodeTest, RejectsMalformedCountsWithTheReason) {
  ExpectEachRejected({
      {"", "empty"},
      {"2(x)", "bad repetition '(x)'"},
      {"2(x0)", "bad repetition"},
      {"2(3)", "bad repetition '(3)'"},
      {"2(x3", "bad repetition"},
      {"(x3)", "bad task count ''"},
      {"0", "bad task count '0'"},
      {"2,,1", "bad task count ''"},
      {"two", "bad task count 'two'"},
      {"1(x99999999)", "bad repetition"},
  }, ExpandTasksPerNode);
}

TEST(BlockPlacesTest, FillsEachHostInTurn) {
  auto places = BlockPlaces({"a", "b", "c"}, {2, 1, 2});
  ASSERT_TRUE(places.ok());
  EXPECT_THAT(*places, ElementsAre(TaskPlace{"a", 0}, TaskPlace{"a", 1}, TaskPlace{"b", 0},
                                   TaskPlace{"c", 0}, TaskPlace{"c", 1}));
  auto mismatch = BlockPlaces({"a", "b"}, {2});
  ASSERT_FALSE(mismatch.ok());
  EXPECT_THAT(mismatch.status().message(), HasSubstr("2 hosts but task counts for 1"));
}

// An environment made of a map, as a launcher would set it.
EnvLookup Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

TEST(AllocationTest, ReadsAnSrunStep) {
  auto alloc = AllocationFromEnv(Env({{"SLURM_STEP_NODELIST", "gpu[07-08],cpu1"},
                                      {"SLURM_STEP_TASKS_PER_NODE", "2(x2),1"},
                                      {"SLURM_STEP_NUM_TASKS", "5"},
                                      {"SLURM_PROCID", "3"},
                                      {"SLURM_NODEID", "1"},
                                      {"SLURM_LOCALID", "1"},
                                      // The job's lists differ from the step's: unused.
                                      {"SLURM_JOB_NODELIST", "gpu[01-09],cpu[1-4]"},
                                      {"SLURM_TASKS_PER_NODE", "1(x13)"}}));
  ASSERT_TRUE(alloc.ok()) << alloc.status().message();
  EXPECT_THAT(alloc->tasks, ElementsAre(TaskPlace{"gpu07", 0}, TaskPlace{"gpu07", 1},
                                        TaskPlace{"gpu08", 0}, TaskPlace{"gpu08", 1},
                                        TaskPlace{"cpu1", 0}));
  EXPECT_THAT(alloc->source, HasSubstr("SLURM_STEP_NODELIST=gpu[07-08],cpu1"));
}

TEST(AllocationTest, FallsBackToTheJobLists) {
  auto alloc = AllocationFromEnv(Env({{"SLURM_JOB_NODELIST", "n[1-2]"},
                                      {"SLURM_TASKS_PER_NODE", "1(x2)"},
                                      {"SLURM_PROCID", "0"}}));
  ASSERT_TRUE(alloc.ok()) << alloc.status().message();
  EXPECT_THAT(alloc->tasks, ElementsAre(TaskPlace{"n1", 0}, TaskPlace{"n2", 0}));
}

std::string AllocationError(std::map<std::string, std::string> vars) {
  return ErrorOf(AllocationFromEnv(Env(std::move(vars))), "the environment");
}

TEST(AllocationTest, NamesWhatIsMissingOrInconsistent) {
  const std::vector<std::pair<std::map<std::string, std::string>, std::string>> cases = {
      {{}, "no allocation in the environment"},
      {{{"SLURM_STEP_NODELIST", "n1"}, {"SLURM_PROCID", "0"}},
       "SLURM_STEP_TASKS_PER_NODE is not"},
      {{{"SLURM_STEP_NODELIST", "n[1-"}, {"SLURM_STEP_TASKS_PER_NODE", "1"}, {"SLURM_PROCID", "0"}},
       "SLURM_STEP_NODELIST=n[1-: '[' without ']'"},
      {{{"SLURM_STEP_NODELIST", "n[1-3]"},
        {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
        {"SLURM_PROCID", "0"}},
       "3 hosts but task counts for 2"},
      {{{"SLURM_STEP_NODELIST", "n[1-2]"},
        {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
        {"SLURM_STEP_NUM_TASKS", "3"},
        {"SLURM_PROCID", "0"}},
       "adds up to 4 tasks"},
      {{{"SLURM_STEP_NODELIST", "n[1-2]"},
        {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
        {"SLURM_PROCID", "4"}},
       "SLURM_PROCID=4 is not a task"},
  };
  for (const auto& [vars, reason] : cases) {
    EXPECT_THAT(AllocationError(vars), HasSubstr(reason)) << reason;
  }
}

TEST(AllocationTest, RejectsAStepThatIsNotBlockDistributed) {
  // srun -m cyclic: task 1 runs on the second host as its first task.
  EXPECT_THAT(AllocationError({{"SLURM_STEP_NODELIST", "n[1-2]"},
                               {"SLURM_STEP_TASKS_PER_NODE", "2(x2)"},
                               {"SLURM_PROCID", "1"},
                               {"SLURM_NODEID", "1"},
                               {"SLURM_LOCALID", "0"},
                               {"SLURM_DISTRIBUTION", "cyclic"}}),
              HasSubstr("block distribution puts it on n1 as local task 1 "
                        "(SLURM_DISTRIBUTION=cyclic)"));
}

TEST(AllocationTest, OpenMpiOnOneHostOnly) {
  auto alloc = AllocationFromEnv(Env({{"OMPI_COMM_WORLD_SIZE", "3"},
                                      {"OMPI_COMM_WORLD_LOCAL_SIZE", "3"},
                                      {"OMPI_COMM_WORLD_RANK", "2"},
                                      // mpirun inside a Slurm job: the MPI vars win.
                                      {"SLURM_STEP_NODELIST", "n[1-2]"}}));
  ASSERT_TRUE(alloc.ok()) << alloc.status().message();
  EXPECT_THAT(alloc->tasks, ElementsAre(TaskPlace{"127.0.0.1", 0}, TaskPlace{"127.0.0.1", 1},
                                        TaskPlace{"127.0.0.1", 2}));
  EXPECT_THAT(AllocationError({{"OMPI_COMM_WORLD_SIZE", "4"},
                               {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}),
              HasSubstr("Open MPI exports no host list"));
}

TEST(RankTest, MpiRanksComeBeforeSlurmProcid) {
  auto rank = RankFromEnv(Env({{"SLURM_PROCID", "0"}, {"OMPI_COMM_WORLD_RANK", "3"}}));
  ASSERT_TRUE(rank.has_value());
  EXPECT_EQ(rank->variable, "OMPI_COMM_WORLD_RANK");
  EXPECT_EQ(rank->value, "3");
  rank = RankFromEnv(Env({{"SLURM_PROCID", "5"}}));
  ASSERT_TRUE(rank.has_value());
  EXPECT_EQ(rank->value, "5");
  EXPECT_FALSE(RankFromEnv(Env({})).has_value());
}

}  // namespace
}  // namespace grapevine::tools
