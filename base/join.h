// Joining the names of a table's rows into one line for help text and error messages
// ("rr | grab", "sgd, adam or adamw"), so both are built from the table itself.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace grapevine {

// The `name(row)` of every row, separated by `sep`; the last two by `last_sep` when given.
template <typename Rows, typename Name>
std::string JoinNames(const Rows& rows, Name name, std::string_view sep,
                      std::string_view last_sep = {}) {
  std::string out;
  const size_t n = std::size(rows);
  size_t i = 0;
  for (const auto& row : rows) {
    if (i > 0) out += (i + 1 == n && !last_sep.empty()) ? last_sep : sep;
    out += std::string_view(name(row));
    ++i;
  }
  return out;
}

}  // namespace grapevine
