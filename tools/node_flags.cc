#include "tools/node_flags.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "agent/core/algorithms/algo_spec.h"

namespace grapevine::tools {

void AddSharedFlags(CLI::App* app, agent::NodeOptions* options) {
  ForEachSharedFlag(*options, [app](const char* flag, auto& member, const char* help) {
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, bool>) {
      app->add_flag(flag, member, help);
    } else {
      app->add_option(flag, member, help)->capture_default_str();
    }
  });
  // Values with a closed set are checked at parse time (exit 2 with the allowed set).
  app->get_option("--optimizer")->check(CLI::IsMember({"sgd", "adam", "adamw"}));
  app->get_option("--order")->check(CLI::IsMember({"rr", "grab"}));
  app->get_option("--init")->check(CLI::IsMember({"shared", "per-node"}));
  std::vector<std::string> algos;
  for (const auto& a : agent::algorithms::AllAlgorithms()) algos.emplace_back(a.name);
  app->get_option("--algo")->check(CLI::IsMember(algos));
  app->get_option("--membership")->check(CLI::IsMember({"lan", "fast"}));
  app->get_option("--log-level")->check(
      CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  app->get_option("--lr")->check(CLI::PositiveNumber);
  app->get_option("--batch")->check(CLI::PositiveNumber);
  app->get_option("--rounds")->check(CLI::PositiveNumber);
  app->get_option("--local-steps")->check(CLI::PositiveNumber);
  app->get_option("--probe-samples")->check(CLI::PositiveNumber);
  app->get_option("--merge-every")->check(CLI::NonNegativeNumber);
  app->get_option("--eval-every")->check(CLI::PositiveNumber);
  app->get_option("--threads")->check(CLI::PositiveNumber);
}

std::vector<std::string> SharedFlagsAsArgs(const agent::NodeOptions& options) {
  std::vector<std::string> args;
  ForEachSharedFlag(options, [&args](const char* flag, const auto& member, const char*) {
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, bool>) {
      if (member) args.emplace_back(flag);
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (member.empty()) return;
      args.emplace_back(flag);
      args.push_back(member);
    } else {
      std::ostringstream out;
      out.precision(9);
      out << member;
      args.emplace_back(flag);
      args.push_back(out.str());
    }
  });
  return args;
}

void ConfigureLogging(const std::string& level, const std::string& node_label) {
  // Logs go to stderr; stdout stays for results (progress, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("grapevine"));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("[%H:%M:%S.%e] [" + node_label + "] [%^%l%$] %v");
}

}  // namespace grapevine::tools
