// DOT reader: a hand-written lexer and recursive-descent parser over the subset of the
// DOT grammar described in dot.h. Kept independent of Graphviz's libcgraph so reading a
// topology needs no Graphviz install and gives our own line-numbered messages.
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <utility>

#include "topology/dot.h"
#include "topology/number.h"

namespace grapevine::topology {
namespace {

enum class Tok { kId, kLBrace, kRBrace, kLBracket, kRBracket, kSemi, kComma, kEq, kColon,
                 kEdgeOp, kEnd };

struct Token {
  Tok kind = Tok::kEnd;
  std::string text;
  int line = 0;
  bool quoted = false;  // quoted or HTML ids are never keywords
};

class DotLexer {
 public:
  DotLexer(std::string_view text, const std::string& source) : text_(text), source_(source) {}

  Result<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    while (true) {
      GV_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (pos_ >= text_.size()) break;
      GV_ASSIGN_OR_RETURN(Token token, Next());
      tokens.push_back(std::move(token));
    }
    tokens.push_back(Token{Tok::kEnd, "end of file", line_, false});
    return tokens;
  }

 private:
  Status Error(int line, const std::string& message) const {
    return Status::Invalid(source_ + ":" + std::to_string(line) + ": " + message);
  }
  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  void Advance() {
    if (text_[pos_] == '\n') {
      ++line_;
      at_line_start_ = true;
    } else if (!std::isspace(static_cast<unsigned char>(text_[pos_]))) {
      at_line_start_ = false;
    }
    ++pos_;
  }

  Status SkipSpaceAndComments() {
    while (pos_ < text_.size()) {
      char c = Peek();
      if (std::isspace(static_cast<unsigned char>(c))) {
        Advance();
      } else if (c == '#' && at_line_start_) {  // C preprocessor output lines
        while (pos_ < text_.size() && Peek() != '\n') Advance();
      } else if (c == '/' && Peek(1) == '/') {
        while (pos_ < text_.size() && Peek() != '\n') Advance();
      } else if (c == '/' && Peek(1) == '*') {
        int start = line_;
        Advance();
        Advance();
        while (pos_ < text_.size() && !(Peek() == '*' && Peek(1) == '/')) Advance();
        if (pos_ >= text_.size()) return Error(start, "unterminated /* comment");
        Advance();
        Advance();
      } else {
        break;
      }
    }
    return Status::Ok();
  }

  static bool IsIdChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           static_cast<unsigned char>(c) >= 0x80;
  }

  Result<Token> Next() {
    int line = line_;
    char c = Peek();
    auto single = [&](Tok kind) {
      Advance();
      return Token{kind, std::string(1, c), line, false};
    };
    switch (c) {
      case '{': return single(Tok::kLBrace);
      case '}': return single(Tok::kRBrace);
      case '[': return single(Tok::kLBracket);
      case ']': return single(Tok::kRBracket);
      case ';': return single(Tok::kSemi);
      case ',': return single(Tok::kComma);
      case '=': return single(Tok::kEq);
      case ':': return single(Tok::kColon);
      case '"': return QuotedString();
      case '<': return HtmlString();
      default: break;
    }
    if (c == '-' && (Peek(1) == '-' || Peek(1) == '>')) {
      std::string op{c, Peek(1)};
      Advance();
      Advance();
      return Token{Tok::kEdgeOp, op, line, false};
    }
    if (c == '-' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
      std::string text;
      if (c == '-') {
        text += c;
        Advance();
      }
      while (std::isdigit(static_cast<unsigned char>(Peek())) || Peek() == '.') {
        text += Peek();
        Advance();
      }
      if (text == "-" || text == "." || text == "-.") {
        return Error(line, "unexpected '" + text + "'");
      }
      return Token{Tok::kId, text, line, false};
    }
    if (IsIdChar(c)) {
      std::string text;
      while (IsIdChar(Peek())) {
        text += Peek();
        Advance();
      }
      return Token{Tok::kId, text, line, false};
    }
    return Error(line, std::string("unexpected character '") + c + "'");
  }

  Result<Token> QuotedString() {
    int line = line_;
    Advance();  // opening quote
    std::string text;
    while (true) {
      if (pos_ >= text_.size()) return Error(line, "unterminated quoted string");
      char c = Peek();
      if (c == '"') {
        Advance();
        break;
      }
      if (c == '\\' && Peek(1) == '"') {
        text += '"';
        Advance();
        Advance();
      } else if (c == '\\' && Peek(1) == '\n') {  // line continuation
        Advance();
        Advance();
      } else {
        text += c;
        Advance();
      }
    }
    // "a" + "b" concatenation.
    size_t save_pos = pos_;
    int save_line = line_;
    bool save_start = at_line_start_;
    GV_RETURN_IF_ERROR(SkipSpaceAndComments());
    if (Peek() == '+') {
      Advance();
      GV_RETURN_IF_ERROR(SkipSpaceAndComments());
      if (Peek() != '"') return Error(line_, "expected a quoted string after '+'");
      GV_ASSIGN_OR_RETURN(Token rest, QuotedString());
      text += rest.text;
    } else {
      pos_ = save_pos;
      line_ = save_line;
      at_line_start_ = save_start;
    }
    return Token{Tok::kId, text, line, true};
  }

  Result<Token> HtmlString() {
    int line = line_;
    int depth = 0;
    std::string text;
    while (true) {
      if (pos_ >= text_.size()) return Error(line, "unterminated <HTML> string");
      char c = Peek();
      Advance();
      if (c == '<') {
        if (depth++ == 0) continue;
      } else if (c == '>') {
        if (--depth == 0) break;
      }
      text += c;
    }
    return Token{Tok::kId, text, line, true};
  }

  std::string_view text_;
  const std::string& source_;
  size_t pos_ = 0;
  int line_ = 1;
  bool at_line_start_ = true;
};

bool IsKeyword(const Token& token, const char* keyword) {
  if (token.kind != Tok::kId || token.quoted) return false;
  const std::string& t = token.text;
  size_t n = std::char_traits<char>::length(keyword);
  if (t.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    if (std::tolower(static_cast<unsigned char>(t[i])) != keyword[i]) return false;
  }
  return true;
}

using AttrList = std::vector<std::pair<Token, Token>>;

class DotParser {
 public:
  DotParser(std::vector<Token> tokens, const std::string& source, std::vector<Issue>* issues)
      : tokens_(std::move(tokens)), source_(source), issues_(issues) {}

  Result<Topology> Run() {
    if (IsKeyword(Cur(), "strict")) ++pos_;
    if (IsKeyword(Cur(), "digraph")) {
      topology_.set_directed(true);
    } else if (!IsKeyword(Cur(), "graph")) {
      return Error(Cur(), "expected 'graph' or 'digraph', found '" + Cur().text + "'");
    }
    ++pos_;
    if (Cur().kind == Tok::kId) ++pos_;  // graph name
    GV_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{'"));
    std::vector<int> members;
    GV_RETURN_IF_ERROR(ParseStmtList(&members));
    GV_RETURN_IF_ERROR(Expect(Tok::kRBrace, "'}'"));
    if (Cur().kind != Tok::kEnd) {
      return Error(Cur(), "unexpected '" + Cur().text + "' after the closing '}'");
    }
    CheckUndeclaredNodes();
    topology_.set_source(source_);
    return std::move(topology_);
  }

 private:
  const Token& Cur() const { return tokens_[pos_]; }
  const Token& Ahead(size_t n) const { return tokens_[std::min(pos_ + n, tokens_.size() - 1)]; }
  Status Error(const Token& at, const std::string& message) const {
    return Status::Invalid(source_ + ":" + std::to_string(at.line) + ": " + message);
  }
  void AddIssue(int line, std::string message) {
    if (issues_) issues_->push_back(Issue{Severity::kError, line, std::move(message)});
  }
  Status Expect(Tok kind, const char* what) {
    if (Cur().kind != kind) {
      return Error(Cur(), std::string("expected ") + what + ", found '" + Cur().text + "'");
    }
    ++pos_;
    return Status::Ok();
  }

  Status ParseStmtList(std::vector<int>* members) {
    while (Cur().kind != Tok::kRBrace) {
      if (Cur().kind == Tok::kEnd) return Error(Cur(), "missing '}' at end of file");
      GV_RETURN_IF_ERROR(ParseStmt(members));
      if (Cur().kind == Tok::kSemi || Cur().kind == Tok::kComma) ++pos_;
    }
    return Status::Ok();
  }

  Status ParseStmt(std::vector<int>* members) {
    const Token& t = Cur();
    if ((IsKeyword(t, "graph") || IsKeyword(t, "node") || IsKeyword(t, "edge")) &&
        Ahead(1).kind == Tok::kLBracket) {
      ++pos_;
      AttrList ignored;
      return ParseAttrList(&ignored);  // defaults: allowed, ignored
    }
    if (t.kind == Tok::kId && !IsKeyword(t, "subgraph") && Ahead(1).kind == Tok::kEq) {
      pos_ += 2;  // graph attribute ID = ID
      return Expect(Tok::kId, "a value after '='");
    }
    std::vector<int> first;
    GV_RETURN_IF_ERROR(ParseOperand(&first, /*node_stmt=*/true));
    members->insert(members->end(), first.begin(), first.end());
    if (Cur().kind == Tok::kEdgeOp) return ParseEdgeRest(std::move(first), members);
    return Status::Ok();
  }

  // A node id (with optional port) or a subgraph; fills the nodes it names. A plain
  // node id followed by attributes is a node statement.
  Status ParseOperand(std::vector<int>* nodes, bool node_stmt) {
    const Token& t = Cur();
    if (t.kind == Tok::kLBrace || IsKeyword(t, "subgraph")) {
      if (IsKeyword(t, "subgraph")) {
        ++pos_;
        if (Cur().kind == Tok::kId) ++pos_;
      }
      GV_RETURN_IF_ERROR(Expect(Tok::kLBrace, "'{'"));
      GV_RETURN_IF_ERROR(ParseStmtList(nodes));
      return Expect(Tok::kRBrace, "'}'");
    }
    if (t.kind != Tok::kId) return Error(t, "expected a node id, found '" + t.text + "'");
    Token id = t;
    ++pos_;
    for (int k = 0; k < 2 && Cur().kind == Tok::kColon; ++k) {  // ports: ignored
      ++pos_;
      GV_RETURN_IF_ERROR(Expect(Tok::kId, "a port name after ':'"));
    }
    if (node_stmt && Cur().kind != Tok::kEdgeOp) {
      int index = topology_.FindOrAddNode(id.text, id.line);
      if (topology_.node(index).line == 0) topology_.mutable_node(index).line = id.line;
      declared_.insert(index);
      if (Cur().kind == Tok::kLBracket) {
        AttrList attrs;
        GV_RETURN_IF_ERROR(ParseAttrList(&attrs));
        ApplyNodeAttrs(index, attrs);
      }
    } else {
      int index = topology_.FindOrAddNode(id.text, 0);
      first_edge_line_.emplace(index, id.line);
    }
    nodes->push_back(topology_.FindNode(id.text).value());
    return Status::Ok();
  }

  Status ParseEdgeRest(std::vector<int> first, std::vector<int>* members) {
    std::vector<std::vector<int>> operands{std::move(first)};
    std::vector<int> op_lines;
    while (Cur().kind == Tok::kEdgeOp) {
      const Token& op = Cur();
      bool arrow = op.text == "->";
      if (arrow != topology_.directed()) {
        return Error(op, topology_.directed()
                             ? "'--' in a digraph: use '->' (or declare 'graph')"
                             : "'->' in an undirected graph: use '--' (or declare 'digraph')");
      }
      op_lines.push_back(op.line);
      ++pos_;
      std::vector<int> next;
      GV_RETURN_IF_ERROR(ParseOperand(&next, /*node_stmt=*/false));
      members->insert(members->end(), next.begin(), next.end());
      operands.push_back(std::move(next));
    }
    std::optional<double> weight;
    if (Cur().kind == Tok::kLBracket) {
      AttrList attrs;
      GV_RETURN_IF_ERROR(ParseAttrList(&attrs));
      for (const auto& [key, value] : attrs) {
        if (key.text != "weight") continue;
        std::optional<double> w = ParseNumber(value.text);
        if (!w) {
          AddIssue(value.line, "edge weight '" + value.text + "' is not a number");
        } else {
          weight = w;
        }
      }
    }
    for (size_t k = 0; k + 1 < operands.size(); ++k) {
      for (int u : operands[k]) {
        for (int v : operands[k + 1]) topology_.AddEdge(u, v, weight, op_lines[k]);
      }
    }
    return Status::Ok();
  }

  Status ParseAttrList(AttrList* attrs) {
    while (Cur().kind == Tok::kLBracket) {
      ++pos_;
      while (Cur().kind != Tok::kRBracket) {
        if (Cur().kind != Tok::kId) {
          return Error(Cur(), "expected an attribute name or ']', found '" + Cur().text + "'");
        }
        Token key = Cur();
        ++pos_;
        GV_RETURN_IF_ERROR(Expect(Tok::kEq, "'=' after attribute name"));
        if (Cur().kind != Tok::kId) {
          return Error(Cur(), "expected a value for attribute '" + key.text + "'");
        }
        attrs->emplace_back(key, Cur());
        ++pos_;
        if (Cur().kind == Tok::kComma || Cur().kind == Tok::kSemi) ++pos_;
      }
      ++pos_;
    }
    return Status::Ok();
  }

  void ApplyNodeAttrs(int index, const AttrList& attrs) {
    Node& node = topology_.mutable_node(index);
    for (const auto& [key, value] : attrs) {
      if (key.text == "addr") node.addr = value.text;
      if (key.text == "group") node.group = value.text;
      if (key.text == "slowdown") {
        if (auto f = ParseSlowdown(value.text)) {
          node.slowdown = *f;
        } else {
          AddIssue(value.line, "slowdown '" + value.text + "' of node '" + node.name +
                                   "' is not a number in [1, 100]");
        }
      }
    }
  }

  // When the file gives addresses in node statements it describes the whole swarm, so a
  // node that only appears in edges is almost always a typo; files without addresses
  // keep DOT's rule that an edge declares its nodes.
  void CheckUndeclaredNodes() {
    bool any_addr = false;
    for (int index : declared_) any_addr |= !topology_.node(index).addr.empty();
    if (!any_addr) return;
    for (const auto& [index, line] : first_edge_line_) {
      if (declared_.count(index)) continue;
      AddIssue(line, "edge names unknown node '" + topology_.node(index).name +
                         "' (no node statement declares it, and the others have addr)");
    }
  }

  std::vector<Token> tokens_;
  const std::string& source_;
  std::vector<Issue>* issues_;
  size_t pos_ = 0;
  Topology topology_;
  std::set<int> declared_;
  std::map<int, int> first_edge_line_;  // node -> line of its first edge mention
};

}  // namespace

Result<Topology> ReadDot(std::string_view text, const std::string& source,
                         std::vector<Issue>* issues) {
  DotLexer lexer(text, source);
  GV_ASSIGN_OR_RETURN(std::vector<Token> tokens, lexer.Run());
  DotParser parser(std::move(tokens), source, issues);
  return parser.Run();
}

}  // namespace grapevine::topology
