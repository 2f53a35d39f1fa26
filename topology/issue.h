// Issue: one problem found while reading or validating a topology file.
//
// Readers and Validate() collect every problem they can (instead of stopping at the
// first) so `grapevine topo check` can list them all. `line` is 1-based, 0 when the
// problem has no line (generated graphs, whole-graph properties).
//
// Thread-safety: value type.
#pragma once

#include <string>
#include <vector>

namespace grapevine::topology {

enum class Severity { kWarning, kError };

struct Issue {
  Severity severity = Severity::kError;
  int line = 0;
  std::string message;
};

// "file:line: error: message" (line omitted when 0, file omitted when empty).
std::string FormatIssue(const std::string& source, const Issue& issue);

bool HasErrors(const std::vector<Issue>& issues);

// All issues, one per line, in the FormatIssue form.
std::string FormatIssues(const std::string& source, const std::vector<Issue>& issues);

}  // namespace grapevine::topology
