#include "tools/launch_options.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <type_traits>

#include "base/check.h"
#include "tools/flag_sets.h"
#include "tools/node_flags.h"

namespace grapevine::tools {

void SetSharedFlag(agent::NodeOptions& o, const std::string& flag, const std::string& value) {
  ForEachSharedFlag(o, [&](const char* name, auto& member, const char*) {
    if (flag != name) return;
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, std::string>) {
      member = value;
    } else if constexpr (std::is_same_v<T, bool>) {
      member = value == "true";
    } else {
      std::istringstream in(value);
      in >> member;
      GV_CHECK_MSG(!in.fail(), "a demo default does not parse");
    }
  });
}

Result<std::vector<std::string>> ParseAlgoList(const std::string& list) {
  std::vector<std::string> algos;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    std::string item = list.substr(start, end - start);
    const size_t a = item.find_first_not_of(" \t");
    const size_t b = item.find_last_not_of(" \t");
    item = a == std::string::npos ? "" : item.substr(a, b - a + 1);
    if (item.empty()) {
      return Status::Invalid("--compare '" + list + "': empty algorithm name in the list");
    }
    if (Status s = FlagSet::Algo().Check(item); !s.ok()) {
      return Status::Invalid("--compare: " + s.message());
    }
    if (std::find(algos.begin(), algos.end(), item) != algos.end()) {
      return Status::Invalid("--compare: '" + item + "' is listed twice");
    }
    algos.push_back(item);
    start = end + 1;
  }
  return algos;
}

std::string SettingLine(const agent::NodeOptions& a) {
  char buf[300];
  std::snprintf(buf, sizeof(buf), "%s, %s, partition %s, %d rounds x %d steps, lr %g, seed %llu",
                a.data.c_str(), a.model.c_str(), a.partition.c_str(), a.rounds, a.local_steps,
                a.recipe.lr, static_cast<unsigned long long>(a.seed));
  return buf;
}

}  // namespace grapevine::tools
