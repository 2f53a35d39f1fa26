// Files around a `grapevine launch` run: the default run folder name, creating the
// folder, the command line as typed (for the report), and reading back small text files.
//
// Thread-safety: plain functions over the file system.
#pragma once

#include <cstddef>
#include <string>

#include "base/status.h"

namespace grapevine::tools {

// Local time as 20260102-153000, for default run folder names.
std::string Timestamp();
// `dir` made absolute and normalised.
std::string AbsoluteFolder(const std::string& dir);
// DIR, DIR/metrics and DIR/logs; Invalid naming DIR when they cannot be created.
Status MakeRunFolder(const std::string& dir);
// This process's command line from /proc/self/cmdline, program name "grapevine",
// arguments quoted where a shell would need it.
std::string CommandLine();
// The whole file, or "" when it cannot be read.
std::string ReadText(const std::string& path);
// The last `max_bytes` bytes of a file ("" when it cannot be read).
std::string TailOfFile(const std::string& path, size_t max_bytes);

}  // namespace grapevine::tools
