// MetricsWriter: the agent's JSONL metrics file (--metrics FILE), one object per line.
// Lines are flushed as they are written so `grapevine launch` can follow progress; a
// line is ToJsonLine(MetricsRecord) (agent/metrics_record.h, documented in docs/agent.md).
//
// Thread-safety: Write() takes a lock; safe from any thread.
#pragma once

#include <cstdio>
#include <mutex>
#include <string>

#include "base/status.h"


namespace grapevine::agent {

class MetricsWriter {
 public:
  MetricsWriter() = default;
  ~MetricsWriter();
  MetricsWriter(const MetricsWriter&) = delete;
  MetricsWriter& operator=(const MetricsWriter&) = delete;

  // Empty path: metrics are dropped. Truncates an existing file.
  // append: keep what the file holds (a resumed agent continues its metrics file).
  Status Open(const std::string& path, bool append = false);
  // `json_line` is one serialised JSON object without the newline.
  void Write(const std::string& json_line);
  void Close();

 private:
  std::mutex mu_;
  std::FILE* file_ = nullptr;
};

}  // namespace grapevine::agent
