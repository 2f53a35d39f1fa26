#include "topology/issue.h"

namespace grapevine::topology {

std::string FormatIssue(const std::string& source, const Issue& issue) {
  std::string out;
  if (!source.empty()) out += source + ":";
  if (issue.line > 0) out += std::to_string(issue.line) + ":";
  if (!out.empty()) out += " ";
  out += issue.severity == Severity::kError ? "error: " : "warning: ";
  out += issue.message;
  return out;
}

bool HasErrors(const std::vector<Issue>& issues) {
  for (const Issue& issue : issues) {
    if (issue.severity == Severity::kError) return true;
  }
  return false;
}

std::string FormatIssues(const std::string& source, const std::vector<Issue>& issues) {
  std::string out;
  for (const Issue& issue : issues) {
    if (!out.empty()) out += "\n";
    out += FormatIssue(source, issue);
  }
  return out;
}

}  // namespace grapevine::topology
