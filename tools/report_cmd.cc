// `grapevine report`: (re)writes the report of run folders made by `grapevine launch`
// (docs/report.md). One folder: its metrics.csv, accuracy.svg, bytes.svg, topology.svg
// and report.html are rewritten in place. Several folders with --out: each one's own
// report, plus a comparison report in the --out folder (curves overlaid, table of final
// accuracy, rounds to --target and bytes).
//
// The page shows summary.json's "command" when launch recorded one, otherwise this
// command line. Exit codes: 0 ok, 1 cannot write, 2 not a run folder / bad usage.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tools/report.h"

namespace grapevine::tools {
namespace {

namespace fs = std::filesystem;

struct ReportOptions {
  std::vector<std::string> runs;
  std::string out;
  double target = 0.8;
  std::string command_line;
};

int Fail(const Status& status) {
  std::fprintf(stderr, "grapevine report: %s\n", status.message().c_str());
  return ExitCodeFor(status);
}

std::string RecordedCommand(const RunData& run, const std::string& fallback) {
  auto it = run.summary.find("command");
  return it != run.summary.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int RunReport(const ReportOptions& o) {
  if (o.runs.size() > 1 && o.out.empty()) {
    std::fprintf(stderr, "grapevine report: several run folders need --out DIR for the "
                         "comparison report\n");
    return 2;
  }
  std::vector<RunData> runs;
  for (const auto& dir : o.runs) {
    auto run = ReadRunFolder(dir);
    if (!run.ok()) return Fail(run.status());
    WarnMalformedLines(run->agents, "grapevine report");
    auto files = WriteRunReport(dir, *run, dir + "/topology.dot",
                                RecordedCommand(*run, o.command_line));
    if (!files.ok()) return Fail(files.status());
    std::printf("%s/report.html\n", dir.c_str());
    runs.push_back(std::move(*run));
  }
  if (o.out.empty()) return 0;
  std::error_code ec;
  fs::create_directories(o.out, ec);
  for (size_t i = 0; i < runs.size(); ++i) {
    fs::path rel = fs::proximate(fs::path(o.runs[i]) / "report.html", o.out, ec);
    if (!ec) runs[i].report_href = rel.generic_string();
  }
  auto files = WriteCompareReport(o.out, runs, o.target, o.command_line);
  if (!files.ok()) return Fail(files.status());
  std::printf("%s/report.html\n", o.out.c_str());
  return 0;
}

void RegisterReportCommand(CLI::App& app, CommandContext& ctx) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Rewrite the report of launch run folders; several folders: compare them");
  cmd->add_option("runs", o->runs, "run folders written by `grapevine launch`")->required();
  cmd->add_option("--out", o->out, "folder for the comparison report (needed with several runs)");
  cmd->add_option("--target", o->target, "mean accuracy for the rounds-to-target column")
      ->check(CLI::Range(0.0, 1.0));
  cmd->callback([o, &ctx]() {
    o->command_line = "grapevine report";
    for (const auto& r : o->runs) o->command_line += " " + r;
    if (!o->out.empty()) o->command_line += " --out " + o->out;
    if (o->runs.size() > 1) {
      char target[32];
      std::snprintf(target, sizeof(target), "%g", o->target);
      o->command_line += std::string(" --target ") + target;
    }
    ctx.exit_code = RunReport(*o);
  });
}

}  // namespace
GRAPEVINE_COMMAND(report, RegisterReportCommand);
}  // namespace grapevine::tools
