// Rough structural checks of generated SVG/HTML for the report tests: balanced tags,
// element counts, polyline coordinates. Not a parser; enough to catch broken output.
#pragma once

#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace grapevine::tools::xmlcheck {

// Every opening tag is closed in order; void HTML elements, `<x/>`, comments,
// declarations and processing instructions need no closing tag.
inline bool BalancedTags(const std::string& doc) {
  static const std::set<std::string> kVoid = {"meta", "br", "img", "input", "link", "hr"};
  std::vector<std::string> stack;
  size_t i = 0;
  while ((i = doc.find('<', i)) != std::string::npos) {
    if (doc.compare(i, 4, "<!--") == 0) {
      i = doc.find("-->", i);
      if (i == std::string::npos) return false;
      continue;
    }
    size_t end = doc.find('>', i);
    if (end == std::string::npos) return false;
    std::string tag = doc.substr(i + 1, end - i - 1);
    i = end + 1;
    if (tag.empty()) return false;
    if (tag[0] == '!' || tag[0] == '?') continue;
    bool closing = tag[0] == '/';
    bool self_closing = tag.back() == '/';
    std::string name = tag.substr(closing ? 1 : 0);
    name = name.substr(0, name.find_first_of(" \t\n/"));
    if (name.empty()) return false;
    if (closing) {
      if (stack.empty() || stack.back() != name) return false;
      stack.pop_back();
    } else if (!self_closing && !kVoid.count(name)) {
      stack.push_back(name);
    }
  }
  return stack.empty();
}

// Number of opening (or self-closing) `name` elements.
inline int CountTag(const std::string& doc, const std::string& name) {
  int n = 0;
  for (size_t i = doc.find("<" + name); i != std::string::npos; i = doc.find("<" + name, i + 1)) {
    char next = doc[i + 1 + name.size()];
    if (next == ' ' || next == '>' || next == '/' || next == '\n') ++n;
  }
  return n;
}

// The (x, y) pairs of the first <polyline points="..."> at or after `from`.
inline std::vector<std::pair<double, double>> FirstPolylinePoints(const std::string& doc,
                                                                  size_t from = 0) {
  std::vector<std::pair<double, double>> out;
  size_t p = doc.find("<polyline", from);
  if (p == std::string::npos) return out;
  size_t start = doc.find("points=\"", p);
  if (start == std::string::npos) return out;
  start += 8;
  size_t end = doc.find('"', start);
  std::string pts = doc.substr(start, end - start);
  const char* s = pts.c_str();
  char* next = nullptr;
  while (*s) {
    double x = std::strtod(s, &next);
    if (next == s || *next != ',') break;
    double y = std::strtod(next + 1, &next);
    out.emplace_back(x, y);
    s = next;
    while (*s == ' ') ++s;
  }
  return out;
}

}  // namespace grapevine::tools::xmlcheck
