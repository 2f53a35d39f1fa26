#include "agent/algorithms/option.h"

#include <charconv>
#include <cstdlib>

#include "base/check.h"

namespace grapevine::agent::algorithms {

namespace {
bool ParseDouble(const std::string& in, double* out) {
  if (in.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(in.c_str(), &end);
  return end == in.c_str() + in.size();
}

bool ParseInt(const std::string& in, int64_t* out) {
  const char* end = in.data() + in.size();
  auto [ptr, ec] = std::from_chars(in.data(), end, *out);
  return ec == std::errc() && ptr == end && !in.empty();
}

std::string IntegerAtLeast(const std::string& in, int64_t floor, const char* words) {
  int64_t v = 0;
  if (!ParseInt(in, &v)) return "must be an integer, not '" + in + "'";
  return v >= floor ? std::string() : std::string("must be ") + words + ", not " + in;
}
}  // namespace

std::string CheckNumberAtLeast(const std::string& in, double floor, bool inclusive,
                               const char* words) {
  double v = 0;
  if (!ParseDouble(in, &v)) return "must be a number, not '" + in + "'";
  const bool ok = inclusive ? v >= floor : v > floor;
  return ok ? std::string() : std::string("must be ") + words + ", not " + in;
}

std::string PositiveInteger(const std::string& in) { return IntegerAtLeast(in, 1, "positive"); }
std::string NonNegativeInteger(const std::string& in) { return IntegerAtLeast(in, 0, ">= 0"); }
std::string NonNegativeNumber(const std::string& in) {
  return CheckNumberAtLeast(in, 0, true, ">= 0");
}

std::string OneOf(const std::string& in, std::initializer_list<std::string_view> allowed) {
  std::string set;
  for (std::string_view a : allowed) {
    if (a == in) return {};
    set += (set.empty() ? "" : ",") + std::string(a);
  }
  return in + " not in {" + set + "}";
}

const std::string& OptionValues::String(std::string_view name) const {
  auto it = values_.find(std::string(name));
  GV_CHECK_MSG(it != values_.end(), "option not declared by the running algorithm");
  return it->second;
}

int64_t OptionValues::Int(std::string_view name) const {
  int64_t v = 0;
  GV_CHECK_MSG(ParseInt(String(name), &v), "option is not an integer");
  return v;
}

double OptionValues::Double(std::string_view name) const {
  double v = 0;
  GV_CHECK_MSG(ParseDouble(String(name), &v), "option is not a number");
  return v;
}

}  // namespace grapevine::agent::algorithms
