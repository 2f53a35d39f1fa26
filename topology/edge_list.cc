#include "topology/edge_list.h"

#include <sstream>

#include "topology/number.h"

namespace grapevine::topology {
namespace {

std::vector<std::string> SplitWhitespace(std::string_view line) {
  std::vector<std::string> tokens;
  std::istringstream in{std::string(line)};
  std::string token;
  while (in >> token) tokens.push_back(token);
  return tokens;
}

}  // namespace

Result<Topology> ReadEdgeList(std::string_view text, const std::string& source,
                              std::vector<Issue>* issues) {
  if (text.find('\0') != std::string_view::npos) {
    return Status::Invalid(source + ": not a text file");
  }
  auto issue = [&](int line, std::string message) {
    if (issues) issues->push_back(Issue{Severity::kError, line, std::move(message)});
  };
  Topology topology(/*directed=*/false);
  int line_number = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_number;
    size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    std::vector<std::string> tokens = SplitWhitespace(line);
    if (tokens.empty()) continue;
    bool has_attrs = tokens.size() >= 2 && tokens[1].find('=') != std::string::npos;
    if (tokens.size() == 1 || has_attrs) {
      int index = topology.FindOrAddNode(tokens[0], line_number);
      Node& node = topology.mutable_node(index);
      if (node.line == 0) node.line = line_number;
      for (size_t k = 1; k < tokens.size(); ++k) {
        size_t eq = tokens[k].find('=');
        std::string key = eq == std::string::npos ? tokens[k] : tokens[k].substr(0, eq);
        std::string value = eq == std::string::npos ? "" : tokens[k].substr(eq + 1);
        if (key == "addr" && eq != std::string::npos) {
          node.addr = value;
        } else if (key == "group" && eq != std::string::npos) {
          node.group = value;
        } else if (key == "slowdown" && eq != std::string::npos) {
          if (auto f = ParseSlowdown(value)) {
            node.slowdown = *f;
          } else {
            issue(line_number, "slowdown '" + value + "' of node '" + tokens[0] +
                                   "' is not a number in [1, 100]");
          }
        } else {
          issue(line_number, "expected 'addr=HOST:PORT', 'group=NAME' or 'slowdown=F' after node '" +
                                 tokens[0] + "', found '" + tokens[k] + "'");
        }
      }
      continue;
    }
    if (tokens.size() > 3) {
      issue(line_number, "expected 'u v [weight]', found " + std::to_string(tokens.size()) +
                             " fields");
      continue;
    }
    std::optional<double> weight;
    if (tokens.size() == 3) {
      weight = ParseNumber(tokens[2]);
      if (!weight) issue(line_number, "edge weight '" + tokens[2] + "' is not a number");
    }
    int u = topology.FindOrAddNode(tokens[0]);
    int v = topology.FindOrAddNode(tokens[1]);
    topology.AddEdge(u, v, weight, line_number);
  }
  topology.set_source(source);
  return topology;
}

}  // namespace grapevine::topology
