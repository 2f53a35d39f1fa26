#include "topology/load.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "topology/dot.h"
#include "topology/edge_list.h"
#include "topology/graphml.h"

namespace grapevine::topology {
namespace {

std::string LowerExtension(const std::string& path) {
  size_t slash = path.find_last_of('/');
  size_t dot = path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

// First word of the text after whitespace and DOT/edge-list comments.
std::string_view FirstWord(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    if (std::isspace(static_cast<unsigned char>(text[i]))) {
      ++i;
    } else if (text.substr(i).starts_with("//") || text[i] == '#') {
      while (i < text.size() && text[i] != '\n') ++i;
    } else if (text.substr(i).starts_with("/*")) {
      size_t end = text.find("*/", i + 2);
      i = end == std::string_view::npos ? text.size() : end + 2;
    } else {
      break;
    }
  }
  size_t start = i;
  if (i < text.size() && text[i] == '<') return text.substr(i, 1);
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
  return text.substr(start, i - start);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

}  // namespace

const char* FormatName(Format format) {
  switch (format) {
    case Format::kDot: return "dot";
    case Format::kGraphml: return "graphml";
    case Format::kEdgeList: return "edge list";
  }
  return "?";
}

Format DetectFormat(const std::string& path, std::string_view text) {
  std::string ext = LowerExtension(path);
  if (ext == "dot" || ext == "gv") return Format::kDot;
  if (ext == "graphml" || ext == "xml") return Format::kGraphml;
  if (ext == "edges" || ext == "edgelist" || ext == "el" || ext == "txt") return Format::kEdgeList;
  std::string_view word = FirstWord(text);
  if (word == "<") return Format::kGraphml;
  if (EqualsIgnoreCase(word, "graph") || EqualsIgnoreCase(word, "digraph") ||
      EqualsIgnoreCase(word, "strict")) {
    return Format::kDot;
  }
  return Format::kEdgeList;
}

Result<Topology> ParseTopology(std::string_view text, const std::string& source, Format format,
                               std::vector<Issue>* issues) {
  switch (format) {
    case Format::kDot: return ReadDot(text, source, issues);
    case Format::kGraphml: return ReadGraphml(text, source, issues);
    case Format::kEdgeList: return ReadEdgeList(text, source, issues);
  }
  return Status::Internal("unknown format");
}

Result<Topology> ReadTopologyFile(const std::string& path, std::vector<Issue>* issues) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    if (err == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(err));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Status::IoError(path + ": read failed");
  std::string text = buffer.str();
  return ParseTopology(text, path, DetectFormat(path, text), issues);
}

Result<Topology> LoadTopology(const std::string& path) {
  std::vector<Issue> issues;
  GV_ASSIGN_OR_RETURN(Topology topology, ReadTopologyFile(path, &issues));
  if (HasErrors(issues)) return Status::Invalid(FormatIssues(path, issues));
  return topology;
}

}  // namespace grapevine::topology
