#include "agent/metrics_record.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

namespace grapevine::agent {
namespace {

template <typename T>
struct Unwrap {
  using type = T;
};
template <typename T>
struct Unwrap<std::optional<T>> {
  using type = T;
};

// "" when `v` fits T, else why not.
template <typename T>
std::string Convert(const nlohmann::json& v, T* out) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return "not a number";
    *out = v.get<T>();
    if (!std::isfinite(*out)) return "not finite";
  } else {
    if (!v.is_number_integer()) return "not an integer";
    if (v.is_number_unsigned()) {
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) return "out of range";
      *out = static_cast<T>(u);
    } else {
      const int64_t s = v.get<int64_t>();
      if (s < 0 && std::is_unsigned_v<T>) return "negative";
      if (s < static_cast<int64_t>(std::numeric_limits<T>::min())) return "out of range";
      *out = static_cast<T>(s);
    }
  }
  return "";
}

}  // namespace

bool SetMetricsField(MetricsRecord& record, std::string_view key, double value) {
  bool set = false;
  ForEachMetricsField(record, [&](const char* name, auto& member) {
    if (set || key != name) return;
    using T = typename Unwrap<std::decay_t<decltype(member)>>::type;
    nlohmann::json v = value;  // integer fields take only whole values
    if constexpr (std::is_integral_v<T>) {
      if (!std::isfinite(value) || std::nearbyint(value) != value) return;
      v = static_cast<int64_t>(value);
    }
    T converted{};
    if (!Convert(v, &converted).empty()) return;
    member = converted;
    set = true;
  });
  return set;
}

std::string ToJsonLine(const MetricsRecord& record) {
  nlohmann::json j = nlohmann::json::object();
  ForEachMetricsField(record, [&j](const char* key, const auto& member) {
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, typename Unwrap<T>::type>) {
      j[key] = member;
    } else if (member) {
      j[key] = *member;
    }
  });
  return j.dump();
}

Result<MetricsRecord> ParseMetricsLine(std::string_view line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid("not JSON (a half-written line?)");
  if (!j.is_object()) return Status::Invalid("not a JSON object");
  MetricsRecord r;
  std::string error;
  ForEachMetricsField(r, [&](const char* key, auto& member) {
    if (!error.empty()) return;
    using T = std::decay_t<decltype(member)>;
    using V = typename Unwrap<T>::type;
    constexpr bool kRequired = std::is_same_v<T, V>;
    const auto it = j.find(key);
    if (it == j.end() || (!kRequired && it->is_null())) {
      if (kRequired) error = std::string("'") + key + "' is missing";
      return;
    }
    V value{};
    if (std::string why = Convert(*it, &value); !why.empty()) {
      error = std::string("'") + key + "' is " + it->dump() + ", " + why;
      return;
    }
    member = value;
  });
  if (!error.empty()) return Status::Invalid(error);
  if (r.round < 0) return Status::Invalid("'round' is " + std::to_string(r.round) + ", negative");
  return r;
}

Result<MetricsFile> ReadMetricsFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::NotFound("cannot open metrics file " + path);
  MetricsFile file;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto r = ParseMetricsLine(line);
    if (r.ok()) {
      file.records.push_back(std::move(*r));
    } else {
      file.errors.push_back(path + ":" + std::to_string(number) + ": " + r.status().message());
    }
  }
  return file;
}

}  // namespace grapevine::agent
