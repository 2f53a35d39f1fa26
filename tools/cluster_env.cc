#include "tools/cluster_env.h"

#include <cctype>
#include <cstdlib>

#include "topology/number.h"

namespace grapevine::tools {
namespace {

// Far more than any allocation; stops `n[0-999999999]` from eating the memory.
constexpr size_t kMaxHosts = 1 << 20;

std::string Quoted(std::string_view s) {
  std::string q(1, '\'');  // built by append: GCC 12 -Wrestrict misfires on "'" + s
  q.append(s).append(1, '\'');
  return q;
}

bool IsSeparator(char c) { return c == ',' || std::isspace(static_cast<unsigned char>(c)); }

// Top-level entries of a host list: split at ',' and whitespace outside brackets.
// Whitespace around a comma is part of the separator; an empty entry (",a", "a,,b",
// "a,") is an error.
Result<std::vector<std::string_view>> SplitHostList(std::string_view list) {
  std::vector<std::string_view> entries;
  int depth = 0;
  size_t start = 0;
  bool comma_pending = false;  // a ',' since the last entry
  for (size_t i = 0; i <= list.size(); ++i) {
    const bool end = i == list.size();
    const char c = end ? ' ' : list[i];
    if (c == '[') {
      if (++depth > 1) return Status::Invalid("nested '[' at offset " + std::to_string(i));
      continue;
    }
    if (c == ']') {
      if (--depth < 0) return Status::Invalid("']' without '[' at offset " + std::to_string(i));
      continue;
    }
    if (depth > 0 || !IsSeparator(c)) continue;
    if (i > start) {
      entries.push_back(list.substr(start, i - start));
      comma_pending = false;
    } else if (c == ',' && (comma_pending || entries.empty())) {
      return Status::Invalid("empty host name before the ',' at offset " + std::to_string(i));
    }
    if (c == ',') comma_pending = true;
    start = i + 1;
  }
  if (depth != 0) return Status::Invalid("'[' without ']'");
  if (comma_pending) return Status::Invalid("ends with ','");
  if (entries.empty()) return Status::Invalid("no host names");
  return entries;
}

// The comma-separated items of `text`, empty ones included ("a,,b" → a, "", b).
std::vector<std::string_view> SplitCommas(std::string_view text) {
  std::vector<std::string_view> items;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    items.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// "1-3,07,10-12" → the numbers as text, each range keeping its lower bound's width.
Result<std::vector<std::string>> ExpandRanges(std::string_view ranges) {
  std::vector<std::string> out;
  for (const std::string_view range : SplitCommas(ranges)) {
    const size_t dash = range.find('-');
    const std::string_view lo = range.substr(0, dash);
    const std::string_view hi = dash == std::string_view::npos ? lo : range.substr(dash + 1);
    auto all_digits = [](std::string_view s) {
      return !s.empty() && s.size() <= 9 &&
             s.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (!all_digits(lo) || !all_digits(hi)) {
      return Status::Invalid("bad range " + Quoted(range) +
                             " (want N or N-M with decimal numbers, e.g. [01-04,07])");
    }
    const long a = std::atol(std::string(lo).c_str());
    const long b = std::atol(std::string(hi).c_str());
    if (b < a) return Status::Invalid("range " + Quoted(range) + " runs backwards");
    if (out.size() + static_cast<size_t>(b - a + 1) > kMaxHosts) {
      return Status::Invalid("expands to more than " + std::to_string(kMaxHosts) + " hosts");
    }
    for (long v = a; v <= b; ++v) {
      std::string digits = std::to_string(v);
      if (digits.size() < lo.size()) digits.insert(0, lo.size() - digits.size(), '0');
      out.push_back(std::move(digits));
    }
  }
  return out;
}

// One entry: text and bracket groups, e.g. "rack[1-2]-n[01-02]"; nothing after the last
// ']' (Slurm 22.05 rejects a suffix too).
Status ExpandEntry(std::string_view entry, std::vector<std::string>* hosts) {
  std::vector<std::string> partial = {""};
  size_t pos = 0;
  while (pos < entry.size()) {
    const size_t open = entry.find('[', pos);
    const std::string_view text = entry.substr(pos, open == std::string_view::npos
                                                        ? std::string_view::npos
                                                        : open - pos);
    if (open == std::string_view::npos && pos > 0) {
      return Status::Invalid(Quoted(entry) + ": text " + Quoted(text) +
                             " after the last ']' (Slurm host lists end with the range)");
    }
    for (std::string& p : partial) p.append(text);
    if (open == std::string_view::npos) break;
    const size_t close = entry.find(']', open);  // balanced: SplitHostList checked
    GV_ASSIGN_OR_RETURN(std::vector<std::string> numbers,
                        ExpandRanges(entry.substr(open + 1, close - open - 1)));
    if (partial.size() * numbers.size() > kMaxHosts) {
      return Status::Invalid("expands to more than " + std::to_string(kMaxHosts) + " hosts");
    }
    std::vector<std::string> next;
    next.reserve(partial.size() * numbers.size());
    for (const std::string& p : partial) {
      for (const std::string& n : numbers) next.push_back(p + n);
    }
    partial = std::move(next);
    pos = close + 1;
  }
  hosts->insert(hosts->end(), partial.begin(), partial.end());
  if (hosts->size() > kMaxHosts) {
    return Status::Invalid("expands to more than " + std::to_string(kMaxHosts) + " hosts");
  }
  return Status::Ok();
}

std::optional<int> IntVar(const EnvLookup& env, const std::string& name) {
  auto v = env(name);
  if (!v) return std::nullopt;
  auto n = topology::ParseInteger(*v, 0, 1 << 30);
  if (!n) return -1;  // present but not a number: the callers report it
  return static_cast<int>(*n);
}

std::string Describe(const std::string& name, const std::optional<std::string>& value) {
  return name + "=" + value.value_or("(unset)");
}

Result<Allocation> SlurmAllocation(const EnvLookup& env, const std::string& list_var,
                                   const std::string& count_var, const std::string& ntasks_var) {
  const std::optional<std::string> list = env(list_var);
  const std::optional<std::string> counts = env(count_var);
  if (!counts) return Status::Invalid(list_var + " is set but " + count_var + " is not");
  auto hosts = ExpandHostList(*list);
  if (!hosts.ok()) {
    return Status::Invalid(list_var + "=" + *list + ": " + hosts.status().message());
  }
  auto per_host = ExpandTasksPerNode(*counts);
  if (!per_host.ok()) {
    return Status::Invalid(count_var + "=" + *counts + ": " + per_host.status().message());
  }
  auto places = BlockPlaces(*hosts, *per_host);
  if (!places.ok()) {
    return Status::Invalid(Describe(list_var, list) + " and " + Describe(count_var, counts) +
                           ": " + places.status().message());
  }
  Allocation alloc;
  alloc.source = "the Slurm allocation (" + Describe(list_var, list) + ", " +
                 Describe(count_var, counts) + ")";
  alloc.tasks = std::move(*places);
  const int n = static_cast<int>(alloc.tasks.size());
  if (auto ntasks = IntVar(env, ntasks_var); ntasks && *ntasks != n) {
    return Status::Invalid(Describe(ntasks_var, env(ntasks_var)) + " but " + count_var + "=" +
                           *counts + " adds up to " + std::to_string(n) + " tasks");
  }
  // This task must sit where the block distribution puts it.
  auto rank = IntVar(env, "SLURM_PROCID");
  if (!rank) return Status::Invalid(list_var + " is set but SLURM_PROCID is not");
  if (*rank < 0 || *rank >= n) {
    return Status::Invalid(Describe("SLURM_PROCID", env("SLURM_PROCID")) + " is not a task of " +
                           alloc.source + " (" + std::to_string(n) + " tasks)");
  }
  const TaskPlace& mine = alloc.tasks[static_cast<size_t>(*rank)];
  const auto node_id = IntVar(env, "SLURM_NODEID");
  const auto local_id = IntVar(env, "SLURM_LOCALID");
  const bool host_ok = !node_id || (*node_id >= 0 && *node_id < static_cast<int>(hosts->size()) &&
                                    (*hosts)[static_cast<size_t>(*node_id)] == mine.host);
  const bool local_ok = !local_id || *local_id == mine.local_index;
  if (!host_ok || !local_ok) {
    return Status::Invalid(
        "task " + std::to_string(*rank) + " runs at " + Describe("SLURM_NODEID", env("SLURM_NODEID")) +
        " " + Describe("SLURM_LOCALID", env("SLURM_LOCALID")) +
        ", but Slurm's block distribution puts it on " + mine.host + " as local task " +
        std::to_string(mine.local_index) + " (" +
        Describe("SLURM_DISTRIBUTION", env("SLURM_DISTRIBUTION")) +
        "): launch with --distribution=block, or give every node an addr");
  }
  return alloc;
}

Result<Allocation> OpenMpiAllocation(const EnvLookup& env) {
  const auto size = IntVar(env, "OMPI_COMM_WORLD_SIZE");
  const auto local_size = IntVar(env, "OMPI_COMM_WORLD_LOCAL_SIZE");
  if (*size <= 0) {
    return Status::Invalid(Describe("OMPI_COMM_WORLD_SIZE", env("OMPI_COMM_WORLD_SIZE")) +
                           " is not a positive number");
  }
  if (!local_size || *local_size != *size) {
    return Status::Invalid(
        "Open MPI exports no host list, and this launch spans several hosts (" +
        Describe("OMPI_COMM_WORLD_LOCAL_SIZE", env("OMPI_COMM_WORLD_LOCAL_SIZE")) + " of " +
        Describe("OMPI_COMM_WORLD_SIZE", env("OMPI_COMM_WORLD_SIZE")) +
        "): give every node an addr=HOST:PORT in the topology (docs/cluster.md)");
  }
  Allocation alloc;
  alloc.source = "the Open MPI launch on one host (OMPI_COMM_WORLD_SIZE=" +
                 std::to_string(*size) + ")";
  for (int r = 0; r < *size; ++r) alloc.tasks.push_back({"127.0.0.1", r});
  return alloc;
}

}  // namespace

Result<std::vector<std::string>> ExpandHostList(std::string_view list) {
  GV_ASSIGN_OR_RETURN(std::vector<std::string_view> entries, SplitHostList(list));
  std::vector<std::string> hosts;
  for (std::string_view entry : entries) GV_RETURN_IF_ERROR(ExpandEntry(entry, &hosts));
  return hosts;
}

Result<std::vector<int>> ExpandTasksPerNode(std::string_view spec) {
  if (spec.empty()) return Status::Invalid("empty");
  std::vector<int> counts;
  for (const std::string_view item : SplitCommas(spec)) {
    const size_t paren = item.find('(');
    const std::string_view count_text = item.substr(0, paren);
    long long repeat = 1;
    if (paren != std::string_view::npos) {
      const std::string_view rep = item.substr(paren);  // "(x3)"
      std::optional<long long> r;
      if (rep.size() > 3 && rep.starts_with("(x") && rep.ends_with(")")) {
        r = topology::ParseInteger(rep.substr(2, rep.size() - 3), 1, kMaxHosts);
      }
      if (!r) {
        return Status::Invalid("bad repetition " + Quoted(rep) + " in " + Quoted(item) +
                               " (want COUNT(xREPEAT), e.g. 2(x3))");
      }
      repeat = *r;
    }
    const std::optional<long long> count = topology::ParseInteger(count_text, 1, 1 << 20);
    if (!count) {
      return Status::Invalid("bad task count " + Quoted(count_text) + " in " + Quoted(item) +
                             " (want a positive number, e.g. 2,1 or 2(x3),1)");
    }
    if (counts.size() + static_cast<size_t>(repeat) > kMaxHosts) {
      return Status::Invalid("more than " + std::to_string(kMaxHosts) + " nodes");
    }
    counts.insert(counts.end(), static_cast<size_t>(repeat), static_cast<int>(*count));
  }
  return counts;
}

Result<std::vector<TaskPlace>> BlockPlaces(const std::vector<std::string>& hosts,
                                           const std::vector<int>& tasks_per_host) {
  if (hosts.size() != tasks_per_host.size()) {
    return Status::Invalid(std::to_string(hosts.size()) + " hosts but task counts for " +
                           std::to_string(tasks_per_host.size()));
  }
  std::vector<TaskPlace> places;
  for (size_t h = 0; h < hosts.size(); ++h) {
    if (tasks_per_host[h] <= 0) {
      return Status::Invalid("host " + hosts[h] + " has " + std::to_string(tasks_per_host[h]) +
                             " tasks");
    }
    for (int k = 0; k < tasks_per_host[h]; ++k) places.push_back({hosts[h], k});
  }
  return places;
}

EnvLookup ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

std::optional<LauncherRank> RankFromEnv(const EnvLookup& env) {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (auto v = env(var)) return LauncherRank{var, *v};
  }
  return std::nullopt;
}

Result<Allocation> AllocationFromEnv(const EnvLookup& env) {
  if (env("OMPI_COMM_WORLD_SIZE")) return OpenMpiAllocation(env);
  if (env("SLURM_STEP_NODELIST")) {
    return SlurmAllocation(env, "SLURM_STEP_NODELIST", "SLURM_STEP_TASKS_PER_NODE",
                           "SLURM_STEP_NUM_TASKS");
  }
  if (env("SLURM_JOB_NODELIST")) {
    return SlurmAllocation(env, "SLURM_JOB_NODELIST", "SLURM_TASKS_PER_NODE", "SLURM_NTASKS");
  }
  return Status::Invalid(
      "no allocation in the environment: --base-port needs a Slurm step "
      "(SLURM_STEP_NODELIST and SLURM_STEP_TASKS_PER_NODE, as srun sets them) or an Open MPI "
      "launch on one host (OMPI_COMM_WORLD_SIZE)");
}

}  // namespace grapevine::tools
