// Checkpoint and resume of a real Node on the in-memory transport and virtual time:
// an agent of `local` stopped after round 2 (its last checkpoint) and started again
// with the same checkpoint dir ends with bit-exactly the parameters of an agent that
// ran all rounds without stopping; its first metrics line after the resume says so.
// Also: a dimat agent's frame comes back; an unusable --checkpoint-dir is bad input.
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "agent/node.h"
#include "tests/agent/node/memory_swarm.h"

namespace grapevine::agent {
namespace {

using testing::RunMemorySwarm;

NodeOptions Options(const std::string& algo, int rounds) {
  spdlog::set_level(spdlog::level::warn);
  NodeOptions o;
  o.data = "synthetic:800:10:4";
  o.model = "mlp:10-16-4";
  o.algo = algo;
  o.rounds = rounds;
  o.local_steps = 7;  // not a divisor of the epoch: checkpoints fall mid-epoch
  o.recipe.batch = 16;
  o.recipe.momentum = 0.9;
  o.eval_samples = 50;
  o.algo_options["probe-samples"] = "50";
  o.linger_ms = 100;
  o.seed = 11;
  return o;
}

class CheckpointResume : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gv_resume_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CheckpointResume, LocalResumeIsBitExact) {
  const auto straight = RunMemorySwarm(1, {}, Options("local", 6));
  ASSERT_TRUE(straight.finished);
  ASSERT_EQ(straight.exit_codes[0], 0);

  NodeOptions first = Options("local", 3);  // stops after round 2 (the checkpoint)
  first.checkpoint_dir = dir_ + "/node-0";
  first.checkpoint_every = 2;
  const auto part1 = RunMemorySwarm(1, {}, first);
  ASSERT_TRUE(part1.finished);
  ASSERT_EQ(part1.exit_codes[0], 0);
  EXPECT_TRUE(std::filesystem::exists(first.checkpoint_dir + "/ckpt-0000000002.gvck"));
  EXPECT_TRUE(std::filesystem::exists(first.checkpoint_dir + "/ckpt-0000000001.gvck"));

  NodeOptions again = Options("local", 6);
  again.checkpoint_dir = first.checkpoint_dir;
  const auto part2 = RunMemorySwarm(1, {}, again);
  ASSERT_TRUE(part2.finished);
  ASSERT_EQ(part2.exit_codes[0], 0);
  ASSERT_EQ(part2.params[0].size(), straight.params[0].size());
  EXPECT_TRUE(part2.params[0] == straight.params[0]) << "resumed parameters differ";
  ASSERT_EQ(part2.metrics[0].size(), 3u);  // rounds 3, 4, 5
  EXPECT_EQ(part2.metrics[0][0]["round"], 3);
  EXPECT_EQ(part2.metrics[0][0]["resumed_from"], 2);
  EXPECT_FALSE(part2.metrics[0][1].contains("resumed_from"));
  EXPECT_EQ(part2.metrics[0].back()["step"], straight.metrics[0].back()["step"]);
}

TEST_F(CheckpointResume, CorruptNewestFallsBackAndStillMatches) {
  const auto straight = RunMemorySwarm(1, {}, Options("local", 5));
  NodeOptions first = Options("local", 4);
  first.checkpoint_dir = dir_ + "/c";
  first.checkpoint_every = 1;
  ASSERT_TRUE(RunMemorySwarm(1, {}, first).finished);
  // The newest (round 3) is cut short: the resume takes round 2's.
  const std::string newest = first.checkpoint_dir + "/ckpt-0000000003.gvck";
  std::filesystem::resize_file(newest, 100);
  NodeOptions again = Options("local", 5);
  again.checkpoint_dir = first.checkpoint_dir;
  const auto resumed = RunMemorySwarm(1, {}, again);
  ASSERT_TRUE(resumed.finished);
  EXPECT_EQ(resumed.metrics[0][0]["resumed_from"], 2);
  EXPECT_TRUE(resumed.params[0] == straight.params[0]);
}

TEST_F(CheckpointResume, DimatResumesAndAnotherAlgorithmIsRefused) {
  NodeOptions first = Options("dimat", 2);
  first.checkpoint_dir = dir_ + "/d";
  first.checkpoint_every = 1;
  ASSERT_TRUE(RunMemorySwarm(1, {}, first).finished);
  NodeOptions again = Options("dimat", 3);
  again.checkpoint_dir = first.checkpoint_dir;
  const auto resumed = RunMemorySwarm(1, {}, again);
  ASSERT_TRUE(resumed.finished);
  ASSERT_EQ(resumed.metrics[0].size(), 1u);
  EXPECT_EQ(resumed.metrics[0][0]["frame"], 0);
  EXPECT_EQ(resumed.metrics[0][0]["resumed_from"], 1);

  NodeOptions other = Options("local", 3);  // another algorithm's checkpoints: refused
  other.checkpoint_dir = first.checkpoint_dir;
  other.topology_path = "unused.dot";
  other.node = "0";
  auto node = Node::Create(other);
  ASSERT_FALSE(node.ok());
  EXPECT_NE(node.status().message().find("dimat"), std::string::npos) << node.status().message();
}

TEST_F(CheckpointResume, UnusableDirectoryIsBadInput) {
  const std::string file = dir_ + "/file";
  { std::ofstream(file) << "x"; }
  NodeOptions o = Options("local", 1);
  o.checkpoint_dir = file;
  o.topology_path = "unused.dot";
  o.node = "0";
  auto node = Node::Create(o);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(ExitCodeFor(node.status()), 2);
  EXPECT_NE(node.status().message().find(file), std::string::npos) << node.status().message();
}

}  // namespace
}  // namespace grapevine::agent
