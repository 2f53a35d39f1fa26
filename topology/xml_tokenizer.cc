#include "topology/xml_tokenizer.h"

#include <cctype>
#include <cstdlib>

#include "topology/number.h"

namespace grapevine::topology {

const std::string* XmlEvent::Attribute(std::string_view key) const {
  for (const auto& [k, v] : attributes) {
    if (k == key) return &v;
  }
  return nullptr;
}

Status XmlTokenizer::Error(int line, const std::string& message) const {
  return Status::Invalid(source_ + ":" + std::to_string(line) + ": " + message);
}

void XmlTokenizer::Advance(size_t n) {
  for (size_t i = 0; i < n && pos_ < text_.size(); ++i, ++pos_) {
    if (text_[pos_] == '\n') ++line_;
  }
}

Status XmlTokenizer::SkipPast(std::string_view terminator, int start_line, const char* what) {
  size_t end = text_.find(terminator, pos_);
  if (end == std::string_view::npos) return Error(start_line, std::string("unterminated ") + what);
  Advance(end + terminator.size() - pos_);
  return Status::Ok();
}

namespace {
void AppendUtf8(unsigned long cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}
}  // namespace

Result<std::string> XmlTokenizer::Decode(std::string_view raw, int line) const {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '&') {
      out += raw[i];
      continue;
    }
    size_t semi = raw.find(';', i);
    if (semi == std::string_view::npos) return Error(line, "'&' without ';' (use &amp;)");
    std::string_view entity = raw.substr(i + 1, semi - i - 1);
    if (entity == "amp") out += '&';
    else if (entity == "lt") out += '<';
    else if (entity == "gt") out += '>';
    else if (entity == "quot") out += '"';
    else if (entity == "apos") out += '\'';
    else if (entity.size() > 1 && entity[0] == '#') {
      bool hex = entity[1] == 'x' || entity[1] == 'X';
      std::string digits(entity.substr(hex ? 2 : 1));
      char* end = nullptr;
      unsigned long cp = std::strtoul(digits.c_str(), &end, hex ? 16 : 10);
      if (digits.empty() || *end != '\0' || cp > 0x10FFFF) {
        return Error(line, "bad character reference '&" + std::string(entity) + ";'");
      }
      AppendUtf8(cp, &out);
    } else {
      return Error(line, "unknown entity '&" + std::string(entity) + ";'");
    }
    i = semi;
  }
  return out;
}

Result<XmlEvent> XmlTokenizer::Next() {
  while (pos_ < text_.size()) {
    if (text_[pos_] != '<') {
      int line = line_;
      size_t end = text_.find('<', pos_);
      if (end == std::string_view::npos) end = text_.size();
      std::string_view raw = text_.substr(pos_, end - pos_);
      Advance(end - pos_);
      XmlEvent event;
      event.kind = XmlEvent::kText;
      event.line = line;
      GV_ASSIGN_OR_RETURN(event.text, Decode(raw, line));
      return event;
    }
    std::string_view rest = text_.substr(pos_);
    int line = line_;
    if (rest.starts_with("<?")) {
      GV_RETURN_IF_ERROR(SkipPast("?>", line, "<? processing instruction"));
    } else if (rest.starts_with("<!--")) {
      GV_RETURN_IF_ERROR(SkipPast("-->", line, "<!-- comment"));
    } else if (rest.starts_with("<![CDATA[")) {
      size_t end = text_.find("]]>", pos_);
      if (end == std::string_view::npos) return Error(line, "unterminated CDATA section");
      XmlEvent event;
      event.kind = XmlEvent::kText;
      event.line = line;
      event.text = std::string(text_.substr(pos_ + 9, end - pos_ - 9));
      Advance(end + 3 - pos_);
      return event;
    } else if (rest.starts_with("<!")) {
      GV_RETURN_IF_ERROR(SkipPast(">", line, "<! declaration"));
    } else {
      return Tag();
    }
  }
  XmlEvent eof;
  eof.line = line_;
  return eof;
}

Result<XmlEvent> XmlTokenizer::Tag() {
  int line = line_;
  auto is_name_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == ':' || static_cast<unsigned char>(c) >= 0x80;
  };
  auto skip_space = [&] {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) Advance(1);
  };
  auto read_name = [&] {
    size_t start = pos_;
    while (pos_ < text_.size() && is_name_char(text_[pos_])) Advance(1);
    return std::string(text_.substr(start, pos_ - start));
  };
  Advance(1);  // '<'
  XmlEvent event;
  event.line = line;
  event.kind = XmlEvent::kStart;
  if (pos_ < text_.size() && text_[pos_] == '/') {
    event.kind = XmlEvent::kEnd;
    Advance(1);
  }
  event.name = read_name();
  if (event.name.empty()) return Error(line, "expected an element name after '<'");
  while (true) {
    skip_space();
    if (pos_ >= text_.size()) return Error(line, "unterminated <" + event.name + "> tag");
    char c = text_[pos_];
    if (c == '>') {
      Advance(1);
      return event;
    }
    if (c == '/' && event.kind == XmlEvent::kStart && pos_ + 1 < text_.size() &&
        text_[pos_ + 1] == '>') {
      Advance(2);
      event.self_closing = true;
      return event;
    }
    if (event.kind == XmlEvent::kEnd) return Error(line_, "unexpected text in </" + event.name + ">");
    std::string key = read_name();
    if (key.empty()) {
      return Error(line_, std::string("unexpected '") + c + "' in <" + event.name + "> tag");
    }
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != '=') {
      return Error(line_, "attribute '" + key + "' needs '=\"value\"'");
    }
    Advance(1);
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '"' && text_[pos_] != '\'')) {
      return Error(line_, "value of attribute '" + key + "' must be quoted");
    }
    char quote = text_[pos_];
    int value_line = line_;
    size_t end = text_.find(quote, pos_ + 1);
    if (end == std::string_view::npos) return Error(value_line, "unterminated attribute value");
    std::string_view raw = text_.substr(pos_ + 1, end - pos_ - 1);
    Advance(end + 1 - pos_);
    GV_ASSIGN_OR_RETURN(std::string value, Decode(raw, value_line));
    event.attributes.emplace_back(std::move(key), std::move(value));
  }
}

}  // namespace grapevine::topology
