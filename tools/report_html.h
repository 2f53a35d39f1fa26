// HTML building blocks shared by the run and compare reports (tools/report.h): one
// self-contained page style (inline CSS, no scripts, no external fonts), tables and
// number formatting.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace grapevine::tools {

// A whole page: <!DOCTYPE html> ... with `title` in <title> and <h1>.
std::string HtmlPage(const std::string& title, const std::string& subtitle,
                     const std::string& body);

// <section><h2>heading</h2>content</section>
std::string HtmlSection(const std::string& heading, const std::string& content);

// A table; cells are HTML (escape text first). Columns after the first are right-aligned
// when `numeric_columns` is set.
std::string HtmlTable(const std::vector<std::string>& header,
                      const std::vector<std::vector<std::string>>& rows,
                      bool numeric_columns = true);

// "1.23 MB", "512 B" (powers of 1000).
std::string FormatBytes(double bytes);
// Picks the unit for a plot axis from the largest value: {divisor, "MB"}.
std::pair<double, std::string> ByteUnit(double max_bytes);
// "0.8312"; "–" when absent.
std::string FormatAccuracy(std::optional<double> accuracy);
// "%.*f" with `decimals`.
std::string FormatFixed(double value, int decimals);
// A summary.json value as text (numbers compact, strings as is, null as "–").
std::string JsonText(const nlohmann::json& value);

}  // namespace grapevine::tools
