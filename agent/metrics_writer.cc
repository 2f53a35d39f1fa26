#include "agent/metrics_writer.h"

#include <cerrno>
#include <cstring>

namespace grapevine::agent {

MetricsWriter::~MetricsWriter() { Close(); }

Status MetricsWriter::Open(const std::string& path, bool append) {
  std::lock_guard<std::mutex> lock(mu_);
  if (path.empty()) return Status::Ok();
  file_ = std::fopen(path.c_str(), append ? "a" : "w");
  if (file_ == nullptr) {
    return Status::Invalid("cannot write metrics file " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

void MetricsWriter::Write(const std::string& json_line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ == nullptr) return;
  std::fwrite(json_line.data(), 1, json_line.size(), file_);
  std::fputc('\n', file_);
  std::fflush(file_);
}

void MetricsWriter::Close() {
  std::lock_guard<std::mutex> lock(mu_);
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
}

}  // namespace grapevine::agent
