#include "topology/graphml.h"

#include <map>
#include <set>
#include <optional>

#include "topology/number.h"
#include "topology/xml_tokenizer.h"

namespace grapevine::topology {
namespace {

// What a <key> means to us.
enum class KeyRole { kIgnored, kAddr, kGroup, kWeight, kSlowdown };

struct KeyInfo {
  KeyRole role = KeyRole::kIgnored;
  std::optional<std::string> default_value;
};

struct PendingEdge {
  std::string source;
  std::string target;
  std::optional<std::string> weight;
  int weight_line = 0;
  int line = 0;
};

class GraphmlReader {
 public:
  GraphmlReader(std::string_view text, const std::string& source, std::vector<Issue>* issues)
      : tokenizer_(text, source), source_(source), issues_(issues) {}

  Result<Topology> Run() {
    bool saw_graph = false;
    while (true) {
      GV_ASSIGN_OR_RETURN(XmlEvent event, tokenizer_.Next());
      if (event.kind == XmlEvent::kEof) break;
      if (event.kind == XmlEvent::kText) {
        if (stack_.size() >= 1 && stack_.back() == "data") data_text_ += event.text;
        if (stack_.size() >= 1 && stack_.back() == "default") default_text_ += event.text;
        continue;
      }
      if (event.kind == XmlEvent::kEnd) {
        if (stack_.empty() || stack_.back() != event.name) {
          return Error(event.line, "</" + event.name + "> does not close " +
                                       (stack_.empty() ? "any element" : "<" + stack_.back() + ">"));
        }
        GV_RETURN_IF_ERROR(OnEnd(event));
        stack_.pop_back();
        continue;
      }
      if (stack_.empty() && event.name != "graphml") {
        return Error(event.line, "not a GraphML file: root element is <" + event.name + ">");
      }
      if (event.name == "graph") {
        if (saw_graph) return Error(event.line, "more than one <graph>: only one is supported");
        saw_graph = true;
        const std::string* def = event.Attribute("edgedefault");
        topology_.set_directed(def && *def == "directed");
      }
      GV_RETURN_IF_ERROR(OnStart(event));
      if (!event.self_closing) stack_.push_back(event.name);
      else GV_RETURN_IF_ERROR(OnEnd(event));
    }
    if (!stack_.empty()) return Error(0, "unexpected end of file inside <" + stack_.back() + ">");
    if (!saw_graph) return Error(0, "no <graph> element");
    ResolveEdges();
    topology_.set_source(source_);
    return std::move(topology_);
  }

 private:
  Status Error(int line, const std::string& message) const {
    std::string text = source_;
    if (line > 0) text.append(":").append(std::to_string(line));
    text.append(": ").append(message);
    return Status::Invalid(std::move(text));
  }
  void AddIssue(int line, std::string message) {
    if (issues_) issues_->push_back(Issue{Severity::kError, line, std::move(message)});
  }
  const std::string& Parent() const {
    static const std::string kNone;
    return stack_.empty() ? kNone : stack_.back();
  }

  Status OnStart(const XmlEvent& event) {
    const std::string& name = event.name;
    if (name == "key") {
      const std::string* id = event.Attribute("id");
      if (!id) return Error(event.line, "<key> without id");
      const std::string* attr_name = event.Attribute("attr.name");
      const std::string* domain = event.Attribute("for");
      std::string meaning = attr_name ? *attr_name : *id;
      std::string on = domain ? *domain : "all";
      KeyInfo info;
      if ((on == "node" || on == "all") && meaning == "addr") info.role = KeyRole::kAddr;
      if ((on == "node" || on == "all") && meaning == "group") info.role = KeyRole::kGroup;
      if ((on == "node" || on == "all") && meaning == "slowdown") info.role = KeyRole::kSlowdown;
      if ((on == "edge" || on == "all") && meaning == "weight") info.role = KeyRole::kWeight;
      keys_[*id] = info;
      current_key_ = *id;
    } else if (name == "default") {
      default_text_.clear();
    } else if (name == "node") {
      if (Parent() != "graph") return Error(event.line, "<node> outside <graph>");
      const std::string* id = event.Attribute("id");
      if (!id) return Error(event.line, "<node> without id");
      if (topology_.FindNode(*id)) {
        AddIssue(event.line, "node '" + *id + "' declared twice");
      }
      current_node_ = topology_.FindOrAddNode(*id, event.line);
    } else if (name == "edge") {
      if (Parent() != "graph") return Error(event.line, "<edge> outside <graph>");
      const std::string* s = event.Attribute("source");
      const std::string* t = event.Attribute("target");
      if (!s || !t) return Error(event.line, "<edge> needs source and target");
      const std::string* directed = event.Attribute("directed");
      if (directed && (*directed == "true") != topology_.directed()) {
        AddIssue(event.line, "edge direction differs from the graph's edgedefault "
                             "(mixed graphs are not supported)");
      }
      edges_.push_back(PendingEdge{*s, *t, std::nullopt, 0, event.line});
      in_edge_ = true;
    } else if (name == "data") {
      data_text_.clear();
      const std::string* key = event.Attribute("key");
      if (!key) return Error(event.line, "<data> without key");
      data_key_ = *key;
      data_line_ = event.line;
    } else if (name == "graph" && Parent() != "graphml") {
      return Error(event.line, "nested <graph> elements are not supported");
    }
    return Status::Ok();
  }

  Status OnEnd(const XmlEvent& event) {
    const std::string& name = event.name;
    if (name == "default" && !current_key_.empty()) {
      keys_[current_key_].default_value = Trim(default_text_);
    } else if (name == "key") {
      current_key_.clear();
    } else if (name == "node") {
      current_node_ = -1;
    } else if (name == "edge") {
      in_edge_ = false;
    } else if (name == "data") {
      auto it = keys_.find(data_key_);
      if (it == keys_.end()) {
        AddIssue(data_line_, "<data key=\"" + data_key_ + "\"> uses an undeclared key");
        return Status::Ok();
      }
      std::string value = Trim(data_text_);
      KeyRole role = it->second.role;
      if (current_node_ >= 0 && role == KeyRole::kAddr) topology_.mutable_node(current_node_).addr = value;
      if (current_node_ >= 0 && role == KeyRole::kGroup) topology_.mutable_node(current_node_).group = value;
      if (current_node_ >= 0 && role == KeyRole::kSlowdown) SetSlowdown(current_node_, value, data_line_);
      if (in_edge_ && role == KeyRole::kWeight) {
        edges_.back().weight = value;
        edges_.back().weight_line = data_line_;
      }
    }
    return Status::Ok();
  }

  static std::string Trim(const std::string& s) {
    size_t b = s.find_first_not_of(" \t\r\n");
    if (b == std::string::npos) return "";
    size_t e = s.find_last_not_of(" \t\r\n");
    return s.substr(b, e - b + 1);
  }

  // Defaults first, then edges (GraphML allows edges before the nodes they name).
  void ResolveEdges() {
    for (const auto& [id, info] : keys_) {
      if (!info.default_value) continue;
      for (int i = 0; i < topology_.num_nodes(); ++i) {
        Node& node = topology_.mutable_node(i);
        if (info.role == KeyRole::kAddr && node.addr.empty()) node.addr = *info.default_value;
        if (info.role == KeyRole::kGroup && node.group.empty()) node.group = *info.default_value;
        if (info.role == KeyRole::kSlowdown && !explicit_slowdown_.count(i)) {
          SetSlowdown(i, *info.default_value, node.line);
        }
      }
      if (info.role == KeyRole::kWeight) {
        for (PendingEdge& edge : edges_) {
          if (!edge.weight) edge.weight = *info.default_value;
        }
      }
    }
    for (const PendingEdge& edge : edges_) {
      std::optional<int> u = topology_.FindNode(edge.source);
      std::optional<int> v = topology_.FindNode(edge.target);
      bool known = true;
      for (const std::string* end : {&edge.source, &edge.target}) {
        if (!topology_.FindNode(*end)) {
          AddIssue(edge.line, "edge names unknown node '" + *end + "' (no <node id=\"" + *end +
                                  "\"> declares it)");
          known = false;
        }
      }
      if (!known) continue;
      std::optional<double> weight;
      if (edge.weight) {
        weight = ParseNumber(*edge.weight);
        if (!weight) {
          AddIssue(edge.weight_line ? edge.weight_line : edge.line,
                   "edge weight '" + *edge.weight + "' is not a number");
        }
      }
      topology_.AddEdge(*u, *v, weight, edge.line);
    }
  }

  void SetSlowdown(int node, const std::string& value, int line) {
    explicit_slowdown_.insert(node);
    if (auto f = ParseSlowdown(value)) {
      topology_.mutable_node(node).slowdown = *f;
    } else {
      AddIssue(line, "slowdown '" + value + "' of node '" + topology_.node(node).name +
                         "' is not a number in [1, 100]");
    }
  }

  XmlTokenizer tokenizer_;
  const std::string& source_;
  std::vector<Issue>* issues_;
  Topology topology_;
  std::vector<std::string> stack_;
  std::map<std::string, KeyInfo> keys_;
  std::string current_key_;
  std::string default_text_;
  int current_node_ = -1;
  bool in_edge_ = false;
  std::vector<PendingEdge> edges_;
  std::string data_key_;
  std::string data_text_;
  int data_line_ = 0;
  std::set<int> explicit_slowdown_;  // nodes whose <data> gave a slowdown (not the default)
};

}  // namespace

Result<Topology> ReadGraphml(std::string_view text, const std::string& source,
                             std::vector<Issue>* issues) {
  GraphmlReader reader(text, source, issues);
  return reader.Run();
}

}  // namespace grapevine::topology
