#include "tools/node_flags.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sstream>


namespace grapevine::tools {

CLI::Validator NumberAtLeast(double floor, bool inclusive, const char* words) {
  return CLI::Validator(
      [=](std::string& in) -> std::string {
        double v = 0;
        try {
          size_t used = 0;
          v = std::stod(in, &used);
          if (used != in.size()) return std::string("must be a number, not '") + in + "'";
        } catch (const std::exception&) {
          return std::string("must be a number, not '") + in + "'";
        }
        const bool ok = inclusive ? v >= floor : v > floor;
        return ok ? std::string() : std::string("must be ") + words + ", not " + in;
      },
      inclusive ? "NONNEGATIVE" : "POSITIVE");
}

CLI::Validator Positive() { return NumberAtLeast(0, false, "positive"); }
CLI::Validator NonNegative() { return NumberAtLeast(0, true, ">= 0"); }

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
  app->get_option("--optimizer")->check(FlagSet::Optimizer().Validator());
  app->get_option("--order")->check(FlagSet::Order(learn::OrderSite::kAgent).Validator());
  app->get_option("--partition")->check(FlagSet::Partition().Validator());
  app->get_option("--schedule")->check(FlagSet::Schedule().Validator());
  app->get_option("--algo")->check(FlagSet::Algo().Validator());
  app->get_option("--init")->check(CLI::IsMember({"shared", "per-node"}));
  app->get_option("--membership")->check(CLI::IsMember({"lan", "fast"}));
  app->get_option("--log-level")->check(
      CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  const CLI::Validator positive = Positive();
  for (const char* flag : {"--lr", "--batch", "--rounds", "--local-steps", "--probe-samples",
                           "--eval-every", "--threads"}) {
    app->get_option(flag)->check(positive);
  }
  app->get_option("--merge-every")->check(NonNegative());
  app->get_option("--clip-grad-norm")->check(NonNegative());
  app->get_option("--pretrain-steps")->check(NonNegative());
  app->get_option("--dimat-weight-prior")->check(NonNegative());
  app->get_option("--dimat-repair")->check(CLI::IsMember({"off", "matched", "every"}));
}

std::vector<std::string> SharedFlagsAsArgs(const agent::NodeOptions& options) {
  std::vector<std::string> args;
  ForEachSharedFlag(options, [&args](const char* flag, const auto& member, const char*) {
    using T = std::decay_t<decltype(member)>;
    if constexpr (std::is_same_v<T, bool>) {
      // Explicit value: a flag whose default is true must be able to pass false on.
      args.emplace_back(std::string(flag) + (member ? "=true" : "=false"));
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
