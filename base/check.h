// GV_CHECK: abort with file:line when an invariant the code relies on is broken.
// Never use it for input from users or peers; return a Status instead.
#pragma once

namespace grapevine::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* expr, const char* msg);
}  // namespace grapevine::internal

#define GV_CHECK(cond)                                                            \
  do {                                                                            \
    if (!(cond)) ::grapevine::internal::CheckFailed(__FILE__, __LINE__, #cond, nullptr); \
  } while (0)

#define GV_CHECK_MSG(cond, msg)                                                   \
  do {                                                                            \
    if (!(cond)) ::grapevine::internal::CheckFailed(__FILE__, __LINE__, #cond, msg); \
  } while (0)
