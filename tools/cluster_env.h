// Where the tasks of a cluster launch run, from the launcher's environment: Slurm's
// compressed host lists and tasks-per-node counts, and the Open MPI variables. Used by
// `grapevine agent --base-port P` so that every agent computes every node's address
// the same way, without any message (docs/cluster.md).
//
// Slurm syntax (checked against `scontrol show hostnames` of Slurm 22.05):
//   host list      `node[01-04,07]`, `a,b[1-3],c`, `rack[1-2]-n[1-2]` (several bracket
//                  groups: the cartesian product, leftmost outermost), entries separated
//                  by ',' or whitespace; a range keeps the width of its lower bound
//                  (`n[08-10]` → n08 n09 n10). Text after the last ']' is rejected, as
//                  Slurm does.
//   tasks per node `2(x3),1` = 2,2,2,1 (same order as the host list).
// Anything else is InvalidInput naming the variable and the problem; we are stricter
// than Slurm where it silently accepts garbage (`n[1-`, `a,,b`).
//
// Task placement: Slurm's block distribution — the first tasks_per_node[0] ranks on
// host 0, the next on host 1, ... The calling task checks its own SLURM_NODEID and
// SLURM_LOCALID against it, so a step launched with another distribution fails
// clearly instead of listening at someone else's address.
//
// Thread-safety: pure functions (the environment is passed in as a lookup).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace grapevine::tools {

// Expands a Slurm host list expression into host names, in order (duplicates kept).
Result<std::vector<std::string>> ExpandHostList(std::string_view list);

// Expands SLURM_TASKS_PER_NODE / SLURM_STEP_TASKS_PER_NODE syntax ("2(x3),1").
Result<std::vector<int>> ExpandTasksPerNode(std::string_view spec);

// One task of a launch: the host it runs on and its index among that host's tasks.
struct TaskPlace {
  std::string host;
  int local_index = 0;
  bool operator==(const TaskPlace&) const = default;
};

// Block distribution of sum(tasks_per_host) tasks over `hosts`.
// InvalidInput when the two lists differ in length or a count is not positive.
Result<std::vector<TaskPlace>> BlockPlaces(const std::vector<std::string>& hosts,
                                           const std::vector<int>& tasks_per_host);

// Looks up an environment variable; nullopt when unset (empty counts as unset).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (std::getenv).
EnvLookup ProcessEnv();

// The rank of this process under a launcher: OMPI_COMM_WORLD_RANK, then PMI_RANK, then
// SLURM_PROCID (mpirun and mpiexec inside a Slurm job inherit the SLURM_PROCID of their
// own daemon, so the MPI ranks come first). Empty when none is set.
struct LauncherRank {
  std::string variable;  // which one gave it
  std::string value;
};
std::optional<LauncherRank> RankFromEnv(const EnvLookup& env);

// Every task of the launch this process belongs to, by rank.
struct Allocation {
  std::string source;  // for messages: "Slurm step (SLURM_STEP_NODELIST=vm ...)"
  std::vector<TaskPlace> tasks;
};

// Slurm: SLURM_STEP_NODELIST + SLURM_STEP_TASKS_PER_NODE (srun), else
// SLURM_JOB_NODELIST + SLURM_TASKS_PER_NODE (the batch step); the count is checked
// against SLURM_STEP_NUM_TASKS / SLURM_NTASKS and the caller's SLURM_NODEID /
// SLURM_LOCALID against the block placement. Open MPI (OMPI_COMM_WORLD_SIZE set) gives
// no host list: only a launch on one host (OMPI_COMM_WORLD_LOCAL_SIZE == SIZE) is
// placed, every task on 127.0.0.1 at its local rank. InvalidInput otherwise, naming
// what is missing or inconsistent.
Result<Allocation> AllocationFromEnv(const EnvLookup& env);

}  // namespace grapevine::tools
