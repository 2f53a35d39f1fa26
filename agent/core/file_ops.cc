#include "agent/core/file_ops.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace grapevine::agent::core {
namespace {

namespace fs = std::filesystem;

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

Status SyncPath(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return rc == 0 ? Status::Ok() : Errno("cannot fsync", path);
}

class Posix final : public FileOps {
 public:
  Status WriteFile(const std::string& path, std::span<const uint8_t> data) override {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("cannot create", path);
    size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Status st = Errno("cannot write", path);
        ::close(fd);
        return st;
      }
      done += static_cast<size_t>(n);
    }
    return ::close(fd) == 0 ? Status::Ok() : Errno("cannot close", path);
  }
  Status SyncFile(const std::string& path) override { return SyncPath(path, O_WRONLY); }
  Status Rename(const std::string& from, const std::string& to) override {
    return ::rename(from.c_str(), to.c_str()) == 0 ? Status::Ok()
                                                   : Errno("cannot rename " + from + " to", to);
  }
  Status SyncDir(const std::string& dir) override { return SyncPath(dir, O_RDONLY | O_DIRECTORY); }
  Result<std::vector<uint8_t>> ReadFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Errno("cannot open", path);
    std::vector<uint8_t> out;
    uint8_t buf[1 << 16];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        Status st = Errno("cannot read", path);
        ::close(fd);
        return st;
      }
      if (n == 0) break;
      out.insert(out.end(), buf, buf + n);
    }
    ::close(fd);
    return out;
  }
  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec)) names.push_back(it->path().filename().string());
    }
    if (ec) return Status::IoError("cannot list " + dir + ": " + ec.message());
    return names;
  }
  Status RemoveFile(const std::string& path) override {
    return ::unlink(path.c_str()) == 0 || errno == ENOENT ? Status::Ok()
                                                          : Errno("cannot remove", path);
  }
  Status MakeDir(const std::string& dir) override {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status::Invalid("cannot create directory " + dir + ": " + ec.message());
    if (!fs::is_directory(dir, ec)) return Status::Invalid(dir + " is not a directory");
    if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
      return Status::Invalid("directory " + dir + " is not readable and writable: " +
                             std::strerror(errno));
    }
    return Status::Ok();
  }
};

}  // namespace

FileOps& PosixFileOps() {
  static Posix ops;
  return ops;
}

}  // namespace grapevine::agent::core
