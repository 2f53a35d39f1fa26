// FileOps: the file-system calls the checkpoint store makes, one virtual per step, so a
// test can stop a write after any step (LevelDB's Env / fault-injection Env idea). The
// POSIX implementation is what agents use; tests/agent/core wrap it to inject faults.
//
// Every call returns a Status naming the path and the OS error; none throws.
// Thread-safety: PosixFileOps is stateless and thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace grapevine::agent::core {

class FileOps {
 public:
  virtual ~FileOps() = default;
  // Creates or truncates `path` and writes `data` (not yet durable).
  virtual Status WriteFile(const std::string& path, std::span<const uint8_t> data) = 0;
  // fsync(2) of the file's data and metadata.
  virtual Status SyncFile(const std::string& path) = 0;
  // rename(2): atomically replaces `to`.
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  // fsync(2) of the directory, so a rename in it survives a power loss.
  virtual Status SyncDir(const std::string& dir) = 0;
  virtual Result<std::vector<uint8_t>> ReadFile(const std::string& path) = 0;
  // Names (not paths) of the regular files in `dir`.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual Status RemoveFile(const std::string& path) = 0;
  // Creates `dir` and its parents when missing; Invalid when it is not a writable directory.
  virtual Status MakeDir(const std::string& dir) = 0;
};

// The real file system.
FileOps& PosixFileOps();

}  // namespace grapevine::agent::core
