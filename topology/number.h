// Strict number parsing and round-trip formatting shared by the topology readers,
// writers and reports. "1.5x", "", "nan" and "inf" are not numbers.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace grapevine::topology {

// The whole of `text` as a finite double, or nullopt.
std::optional<double> ParseNumber(std::string_view text);

// The whole of `text` as a base-10 integer in [min, max], or nullopt.
std::optional<long long> ParseInteger(std::string_view text, long long min, long long max);

// A node's slowdown attribute: a number in [1, 100] (1 = no slowdown), or nullopt.
std::optional<double> ParseSlowdown(std::string_view text);

// Shortest decimal text that reads back to the same double ("0.5", "1e-07").
std::string FormatDouble(double value);

}  // namespace grapevine::topology
