// XmlTokenizer: a minimal pull tokenizer for well-formed XML documents such as GraphML.
// Internal to topology/ (the GraphML reader); not a validating parser: no DTDs, no
// namespaces (prefixes are kept in names), no external entities.
//
// Thread-safety: one instance per document, single thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace grapevine::topology {

struct XmlEvent {
  enum Kind { kStart, kEnd, kText, kEof } kind = kEof;
  std::string name;  // element name for kStart/kEnd
  std::vector<std::pair<std::string, std::string>> attributes;  // kStart, entity-decoded
  std::string text;  // kText, entity-decoded
  bool self_closing = false;  // kStart of <x/>; no kEnd follows
  int line = 0;

  const std::string* Attribute(std::string_view key) const;
};

class XmlTokenizer {
 public:
  XmlTokenizer(std::string_view text, std::string source) : text_(text), source_(std::move(source)) {}

  // Next event; kEof at the end. Errors name source:line.
  Result<XmlEvent> Next();

 private:
  Status Error(int line, const std::string& message) const;
  Status SkipPast(std::string_view terminator, int start_line, const char* what);
  Result<std::string> Decode(std::string_view raw, int line) const;
  Result<XmlEvent> Tag();
  void Advance(size_t n);

  std::string_view text_;
  std::string source_;
  size_t pos_ = 0;
  int line_ = 1;
};

}  // namespace grapevine::topology
