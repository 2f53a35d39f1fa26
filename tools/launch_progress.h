// Live progress of a swarm run for `grapevine launch`: the latest state of every agent,
// read from the tail of its metrics file (agent/metrics_record.h), and a display that
// redraws a table in place on a terminal or prints one plain line per update elsewhere.
//
// Thread-safety: ReadProgress is a pure read of files; a ProgressDisplay belongs to the
// launcher's one thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace grapevine::tools {

// Latest state of one agent.
struct AgentProgress {
  int64_t round = -1;
  double loss = 0;
  double accuracy = -1;
  int neighbours = 0;
  double mb_sent = 0;
};

struct Progress {
  std::vector<AgentProgress> agents;  // in the order of the files
  int64_t min_round = -1;
  int64_t max_round = -1;
  double mean_accuracy = -1;  // over the agents that evaluated; -1 when none did
  int reporting = 0;
};

// One AgentProgress per file (round -1 for a file that is missing or empty).
Progress ReadProgress(const std::vector<std::string>& metric_files);

class ProgressDisplay {
 public:
  // `title` (may be empty) starts every status line, e.g. "run 2/6: wa".
  ProgressDisplay(std::vector<std::string> names, int rounds, std::string title);

  void Show(const Progress& p, double seconds);

 private:
  std::string StatusLine(const Progress& p, double seconds) const;
  std::string Table(const Progress& p) const;

  std::vector<std::string> names_;
  int rounds_;
  std::string title_;
  bool tty_;
  int lines_ = 0;  // lines of the table drawn last (tty)
};

}  // namespace grapevine::tools
