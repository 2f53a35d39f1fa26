// Status and Result<T>: how expected runtime failures travel in grapevine.
//
// Three error tiers (see ../docs/design-notes.md): broken invariants abort through
// GV_CHECK; expected failures (bad file, bad frame, unreachable peer) are returned as
// Status / Result<T> with a message a user can act on; library exceptions are caught
// only at the codec and at the top of each network coroutine.
//
// Thread-safety: value types, no shared state.
#pragma once

#include <string>
#include <utility>
#include <variant>

#include "base/check.h"

namespace grapevine {

enum class StatusCode {
  kOk = 0,
  kInvalidInput,   // malformed file, flag, frame or model: the user's input is wrong
  kNotFound,       // file or peer not there
  kIoError,        // read/write failed
  kUnavailable,    // peer unreachable, timed out, connection closed
  kAuthFailed,     // authentication failed
  kUnimplemented,  // peer does not know what we asked
  kInternal,       // everything else
};

const char* StatusCodeName(StatusCode code);

class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  static Status Invalid(std::string m) { return Status(StatusCode::kInvalidInput, std::move(m)); }
  static Status NotFound(std::string m) { return Status(StatusCode::kNotFound, std::move(m)); }
  static Status IoError(std::string m) { return Status(StatusCode::kIoError, std::move(m)); }
  static Status Unavailable(std::string m) { return Status(StatusCode::kUnavailable, std::move(m)); }
  static Status AuthFailed(std::string m) { return Status(StatusCode::kAuthFailed, std::move(m)); }
  static Status Unimplemented(std::string m) {
    return Status(StatusCode::kUnimplemented, std::move(m));
  }
  static Status Internal(std::string m) { return Status(StatusCode::kInternal, std::move(m)); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid input: file.dot:3: ..." style, for logs.
  std::string ToString() const;

  // Prefixes context, e.g. status.WithContext("loading data").
  Status WithContext(const std::string& context) const {
    if (ok()) return *this;
    return Status(code_, context + ": " + message_);
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

// Holds a T or a non-OK Status. Accessing value() on an error aborts (a bug, not input).
template <typename T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    GV_CHECK(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  T& value() & {
    GV_CHECK(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    GV_CHECK(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    GV_CHECK(ok());
    return std::get<T>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

// Exit status for a failed CLI command: 2 for bad input or usage, 1 otherwise.
inline int ExitCodeFor(const Status& s) {
  if (s.ok()) return 0;
  return s.code() == StatusCode::kInvalidInput || s.code() == StatusCode::kNotFound ? 2 : 1;
}

}  // namespace grapevine

// Propagate a non-OK Status from an expression returning Status.
#define GV_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::grapevine::Status gv_status_ = (expr);     \
    if (!gv_status_.ok()) return gv_status_;     \
  } while (0)

#define GV_CONCAT_INNER_(a, b) a##b
#define GV_CONCAT_(a, b) GV_CONCAT_INNER_(a, b)
// GV_ASSIGN_OR_RETURN(auto x, ExprReturningResult());
#define GV_ASSIGN_OR_RETURN(lhs, expr) \
  GV_ASSIGN_OR_RETURN_IMPL_(GV_CONCAT_(gv_result_, __LINE__), lhs, expr)
#define GV_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()
