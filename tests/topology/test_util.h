// Helpers shared by the topology tests.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "topology/issue.h"

namespace grapevine::topology {

// True when some issue's message contains `needle` (and, when line > 0, is at `line`).
inline bool HasIssue(const std::vector<Issue>& issues, const std::string& needle, int line = 0) {
  for (const Issue& issue : issues) {
    if (issue.message.find(needle) != std::string::npos && (line == 0 || issue.line == line)) {
      return true;
    }
  }
  return false;
}

inline std::string DataPath(const std::string& name) {
  return std::string(TOPOLOGY_TEST_DATA) + "/" + name;
}

}  // namespace grapevine::topology
