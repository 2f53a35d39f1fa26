#include <cctype>

#include "topology/dot.h"
#include "topology/number.h"

namespace grapevine::topology {
namespace {

bool IsPlainIdentifier(std::string_view id) {
  if (id.empty() || std::isdigit(static_cast<unsigned char>(id.front()))) return false;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  // Keywords must be quoted to be read as ids.
  for (const char* keyword : {"graph", "digraph", "node", "edge", "subgraph", "strict"}) {
    std::string lower;
    for (char c : id) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == keyword) return false;
  }
  return true;
}

bool IsNumeral(std::string_view id) {
  size_t i = id.size() > 1 && id.front() == '-' ? 1 : 0;
  bool digit = false;
  bool dot = false;
  for (; i < id.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(id[i]))) {
      digit = true;
    } else if (id[i] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  return digit;
}

}  // namespace

std::string DotId(std::string_view id) {
  if (IsPlainIdentifier(id) || IsNumeral(id)) return std::string(id);
  std::string out = "\"";
  for (char c : id) {
    if (c == '"') out += '\\';
    out += c;
  }
  // A trailing backslash would escape the closing quote.
  if (!id.empty() && id.back() == '\\') out += ' ';
  out += '"';
  return out;
}

std::string WriteDot(const Topology& topology, const DotWriteOptions& options) {
  const bool directed = topology.directed();
  std::string out = std::string(directed ? "digraph " : "graph ") + DotId(options.graph_name) +
                    " {\n";
  for (const Node& node : topology.nodes()) {
    out += "  " + DotId(node.name);
    std::string attrs;
    if (!node.addr.empty()) attrs += "addr=" + DotId(node.addr);
    if (!node.group.empty()) {
      if (!attrs.empty()) attrs += ", ";
      attrs += "group=" + DotId(node.group);
    }
    if (node.slowdown != 1.0) {
      if (!attrs.empty()) attrs += ", ";
      attrs += "slowdown=" + FormatDouble(node.slowdown);
    }
    if (!attrs.empty()) out += " [" + attrs + "]";
    out += ";\n";
  }
  const char* op = directed ? " -> " : " -- ";
  for (const Edge& edge : topology.edges()) {
    out += "  " + DotId(topology.node(edge.u).name) + op + DotId(topology.node(edge.v).name);
    if (options.write_weights && edge.weight) out += " [weight=" + DotId(FormatDouble(*edge.weight)) + "]";
    out += ";\n";
  }
  out += "}\n";
  return out;
}

}  // namespace grapevine::topology
