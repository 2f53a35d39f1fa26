#include "tools/report_html.h"

#include <cmath>
#include <cstdio>

#include "tools/svg_plot.h"

namespace grapevine::tools {
namespace {

constexpr const char* kStyle = R"css(
:root { color-scheme: light; }
body { margin: 0; background: #f4f5f7; color: #1f2328;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 24px; margin: 8px 0 2px; }
.subtitle { color: #57606a; margin: 0 0 18px; }
section { background: #fff; border: 1px solid #d8dee4; border-radius: 8px;
  padding: 14px 18px 16px; margin: 16px 0; }
h2 { font-size: 17px; margin: 0 0 10px; }
pre.command { background: #0d1117; color: #e6edf3; padding: 10px 12px; border-radius: 6px;
  overflow-x: auto; white-space: pre-wrap; word-break: break-all; margin: 0;
  font: 13px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 5px 12px; border-bottom: 1px solid #eaeef2; text-align: left; }
th { background: #f6f8fa; font-weight: 600; border-bottom: 1px solid #d0d7de; }
td.num, th.num { text-align: right; white-space: nowrap; }
tr:hover td { background: #f8fafc; }
.figure svg, .figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
.note { background: #fff8c5; border: 1px solid #d4a72c66; border-radius: 6px; padding: 8px 12px; }
.swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px;
  margin-right: 6px; vertical-align: -1px; border: 1px solid #0002; }
.best { font-weight: 700; }
.muted { color: #57606a; }
ul.files { columns: 3; margin: 0; padding-left: 18px; }
details summary { cursor: pointer; color: #0969da; margin: 4px 0; }
a { color: #0969da; }
)css";

}  // namespace

std::string HtmlPage(const std::string& title, const std::string& subtitle,
                     const std::string& body) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>" +
         XmlEscape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n<main>\n"
         "<h1>" + XmlEscape(title) + "</h1>\n<p class=\"subtitle\">" + XmlEscape(subtitle) +
         "</p>\n" + body + "</main>\n</body>\n</html>\n";
}

std::string HtmlSection(const std::string& heading, const std::string& content) {
  return "<section>\n<h2>" + XmlEscape(heading) + "</h2>\n" + content + "\n</section>\n";
}

std::string HtmlTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows, bool numeric_columns) {
  auto cls = [&](size_t c) { return numeric_columns && c > 0 ? " class=\"num\"" : ""; };
  std::string out = "<table>\n<thead><tr>";
  for (size_t c = 0; c < header.size(); ++c) out += "<th" + std::string(cls(c)) + ">" + header[c] + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows) {
    out += "<tr>";
    for (size_t c = 0; c < row.size(); ++c) out += "<td" + std::string(cls(c)) + ">" + row[c] + "</td>";
    out += "</tr>\n";
  }
  return out + "</tbody>\n</table>\n";
}

std::pair<double, std::string> ByteUnit(double max_bytes) {
  if (max_bytes >= 1e9) return {1e9, "GB"};
  if (max_bytes >= 1e6) return {1e6, "MB"};
  if (max_bytes >= 1e3) return {1e3, "kB"};
  return {1, "B"};
}

std::string FormatBytes(double bytes) {
  auto [div, unit] = ByteUnit(bytes);
  return div == 1 ? FormatFixed(bytes, 0) + " B" : FormatFixed(bytes / div, 2) + " " + unit;
}

std::string FormatAccuracy(std::optional<double> accuracy) {
  return accuracy ? FormatFixed(*accuracy, 4) : "–";
}

std::string FormatFixed(double value, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, value);
  return buf;
}

std::string JsonText(const nlohmann::json& value) {
  if (value.is_null()) return "–";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (value.is_number_integer() || value.is_number_unsigned()) return value.dump();
  if (value.is_number()) {
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.6g", value.get<double>());
    return buf;
  }
  return value.dump();
}

}  // namespace grapevine::tools
