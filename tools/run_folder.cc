#include "tools/run_folder.h"

#include <ctime>
#include <filesystem>
#include <fstream>

namespace grapevine::tools {

namespace fs = std::filesystem;

std::string Timestamp() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%d-%H%M%S", std::localtime(&t));
  return buf;
}

std::string AbsoluteFolder(const std::string& dir) {
  return fs::absolute(dir).lexically_normal().string();
}

Status MakeRunFolder(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir + "/metrics", ec);
  if (!ec) fs::create_directories(dir + "/logs", ec);
  if (ec) return Status::Invalid("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

std::string CommandLine() {
  const std::string raw = ReadText("/proc/self/cmdline");
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    std::string arg = raw.substr(start, end - start);
    if (first) {
      arg = "grapevine";
      first = false;
    }
    if (!out.empty()) out += ' ';
    bool plain = !arg.empty() && arg.find_first_of(" \t'\"$\\") == std::string::npos;
    out += plain ? arg : "'" + arg + "'";
    start = end + 1;
  }
  return out;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string TailOfFile(const std::string& path, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(in.tellg());
  size_t start = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(start));
  std::string s(size - start, '\0');
  in.read(s.data(), static_cast<std::streamsize>(s.size()));
  return s;
}

}  // namespace grapevine::tools
