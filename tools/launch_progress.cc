#include "tools/launch_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "agent/metrics_record.h"

namespace grapevine::tools {
namespace {

AgentProgress LatestOf(const std::string& file) {
  AgentProgress a;
  auto m = agent::ReadMetricsFile(file);
  if (!m.ok()) return a;
  for (const auto& r : m->records) {
    a.round = std::max(a.round, r.round);
    a.loss = r.loss.value_or(0);
    a.neighbours = static_cast<int>(r.neighbours_alive.value_or(0));
    a.mb_sent = static_cast<double>(r.bytes_out.value_or(0)) / 1e6;
    if (r.test_accuracy) a.accuracy = *r.test_accuracy;
  }
  return a;
}

std::string Accuracy(double a) { return a >= 0 ? std::to_string(a).substr(0, 6) : "-"; }

}  // namespace

Progress ReadProgress(const std::vector<std::string>& metric_files) {
  Progress p;
  double acc_sum = 0;
  bool first = true;
  for (const auto& f : metric_files) {
    AgentProgress a = LatestOf(f);
    p.min_round = first ? a.round : std::min(p.min_round, a.round);
    p.max_round = std::max(p.max_round, a.round);
    first = false;
    if (a.accuracy >= 0) {
      acc_sum += a.accuracy;
      ++p.reporting;
    }
    p.agents.push_back(a);
  }
  if (p.reporting > 0) p.mean_accuracy = acc_sum / p.reporting;
  return p;
}

ProgressDisplay::ProgressDisplay(std::vector<std::string> names, int rounds, std::string title)
    : names_(std::move(names)),
      rounds_(rounds),
      title_(title.empty() ? "" : title + " "),
      tty_(isatty(STDOUT_FILENO) != 0) {}

std::string ProgressDisplay::StatusLine(const Progress& p, double seconds) const {
  const double done = p.min_round + 1 <= 0 ? 0 : static_cast<double>(p.min_round + 1) / rounds_;
  std::string eta = "?";
  if (done > 0 && done < 1) {
    eta = std::to_string(static_cast<int>(seconds / done * (1 - done))) + "s";
  } else if (done >= 1) {
    eta = "0s";
  }
  char head[300];
  std::snprintf(head, sizeof(head),
                "%s[%6.1fs] rounds %lld-%lld of %d, mean test accuracy %s (%d agents), ETA %s",
                title_.c_str(), seconds, static_cast<long long>(p.min_round + 1),
                static_cast<long long>(p.max_round + 1), rounds_,
                Accuracy(p.mean_accuracy).c_str(), p.reporting, eta.c_str());
  return head;
}

std::string ProgressDisplay::Table(const Progress& p) const {
  std::string out;
  char line[200];
  std::snprintf(line, sizeof(line), "\033[2K  %-10s %6s %8s %9s %6s %9s\n", "agent", "round",
                "loss", "accuracy", "neigh", "MB sent");
  out += line;
  for (size_t i = 0; i < p.agents.size() && i < names_.size(); ++i) {
    const auto& a = p.agents[i];
    std::snprintf(line, sizeof(line), "\033[2K  %-10s %6lld %8.4f %9s %6d %9.1f\n",
                  names_[i].c_str(), static_cast<long long>(a.round + 1), a.loss,
                  Accuracy(a.accuracy).c_str(), a.neighbours, a.mb_sent);
    out += line;
  }
  return out;
}

void ProgressDisplay::Show(const Progress& p, double seconds) {
  const std::string head = StatusLine(p, seconds);
  if (!tty_) {
    std::printf("%s\n", head.c_str());
    std::fflush(stdout);
    return;
  }
  std::string out;
  if (lines_ > 0) out += "\033[" + std::to_string(lines_) + "F";  // back to the table's top
  out += Table(p) + "\033[2K" + head + "\n";
  lines_ = static_cast<int>(p.agents.size()) + 2;
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace grapevine::tools
