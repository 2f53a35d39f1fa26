// OptionSpec: one command-line option of a training algorithm, declared once in its
// registry row (registry.h) and from there registered by `grapevine agent`, `grapevine
// launch`, the TOML config (`key = value`, key = name) and `--help`
// (tools/node_flags.cc). NodeOptions carries the given values as strings by name;
// OptionValues checks them with the declared validators and hands them to the factory.
//
// Validators return "" for a good value and otherwise what is wrong, in the words the
// CLI prints after "--name: " ("must be >= 0, not -1", "yes not in {off,matched,every}").
// Thread-safety: immutable data and pure functions.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "base/status.h"

namespace grapevine::agent::algorithms {

using OptionValidator = std::string (*)(const std::string& value);

struct OptionSpec {
  std::string_view name;           // the flag without dashes: "merge-every"
  std::string_view help;           // without the algorithm's name (the CLI prefixes it)
  std::string_view default_value;  // must pass `validate`
  std::string_view type_name;      // for --help: "INT", "FLOAT", "TEXT"
  OptionValidator validate;
};

// Number checks in the CLI's words; `words` describes the bound ("positive", ">= 0").
std::string CheckNumberAtLeast(const std::string& in, double floor, bool inclusive,
                               const char* words);
std::string PositiveInteger(const std::string& in);
std::string NonNegativeInteger(const std::string& in);
std::string NonNegativeNumber(const std::string& in);
// "" when `in` is one of `allowed`, else "<in> not in {a,b,c}".
std::string OneOf(const std::string& in, std::initializer_list<std::string_view> allowed);

// The running algorithm's option values, every declared option present (its default
// when not given). Built only by ResolveOptions (registry.h), so every value passed its
// validator.
class OptionValues {
 public:
  OptionValues() = default;
  explicit OptionValues(std::map<std::string, std::string> values) : values_(std::move(values)) {}
  // REQUIRES: `name` is a declared option of the algorithm and holds that type (checked).
  int64_t Int(std::string_view name) const;
  double Double(std::string_view name) const;
  const std::string& String(std::string_view name) const;

 private:
  std::map<std::string, std::string> values_;
};

}  // namespace grapevine::agent::algorithms
