// What the launcher tests (slurm_test, mpirun_test) share: a short training run, the
// addr-less topology files, and the check that every launcher rank ran the node of its
// rank and trained.
#pragma once

#include <string>
#include <vector>

namespace grapevine::integration {

constexpr int kClusterRounds = 6;

// Agent flags for a short run on synthetic data (4 classes: chance is 0.25).
std::vector<std::string> ClusterTrainingFlags();

// The words joined by spaces (for `bash -c`).
std::string JoinWords(const std::vector<std::string>& words);

// Writes `path`: a DOT ring of n nodes "0".."n-1" without addresses — the addr attribute
// left out, or addr="auto" when `auto_attr`.
void WriteAddrLessRing(const std::string& path, int n, bool auto_attr);

// The first of `count` consecutive ports on 127.0.0.1 that are free now (20000-29000).
int FreePortRun(int count);

// For every rank r < tasks, the metrics file `pattern` with RANK replaced by r holds
// kClusterRounds lines, all from node r, merged some neighbour model and ends above
// 0.6 test accuracy. Fails the calling test (gtest EXPECT/ADD_FAILURE) otherwise.
void ExpectEveryRankTrainedAsItsNode(const std::string& pattern, int tasks);

}  // namespace grapevine::integration
