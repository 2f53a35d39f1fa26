#include "tools/node_flags.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <sstream>

#include "agent/algorithms/registry.h"

namespace grapevine::tools {

CLI::Validator NumberAtLeast(double floor, bool inclusive, const char* words) {
  return CLI::Validator(
      [=](std::string& in) {
        return agent::algorithms::CheckNumberAtLeast(in, floor, inclusive, words);
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
  app->get_option("--sampling")->check(FlagSet::Sampling().Validator());
  app->get_option("--schedule")->check(FlagSet::Schedule().Validator());
  app->get_option("--algo")->check(FlagSet::Algo().Validator());
  app->get_option("--init")->check(CLI::IsMember({"shared", "per-node"}));
  // The algorithms' own options, each from its one declaration in the registry.
  for (const auto& declared : agent::algorithms::AllOptions()) {
    // Only given values are kept: the running algorithm's row fills in its own default
    // (rows sharing an option may default it differently).
    const auto& o = *declared.spec;
    app->add_option_function<std::string>(
           "--" + std::string(o.name),
           [options, name = std::string(o.name)](const std::string& v) {
             options->algo_options[name] = v;
           },
           declared.used_by + ": " + std::string(o.help))
        ->default_str(declared.DefaultText())
        ->type_name(std::string(o.type_name))
        ->check(CLI::Validator([declared](std::string& in) { return declared.Validate(in); }, ""));
  }
  app->get_option("--membership")->check(CLI::IsMember({"lan", "fast"}));
  app->get_option("--log-level")->check(
      CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  const CLI::Validator positive = Positive();
  for (const char* flag : {"--lr", "--batch", "--rounds", "--local-steps", "--eval-every",
                           "--threads"}) {
    app->get_option(flag)->check(positive);
  }
  app->get_option("--clip-grad-norm")->check(NonNegative());
  app->get_option("--pretrain-steps")->check(NonNegative());
  app->get_option("--checkpoint-every")->check(NonNegative());
}

Status CheckAlgoOptionsGiven(const CLI::App& app, const std::vector<std::string>& algos,
                             const std::map<std::string, std::string>& given) {
  for (const auto& declared : agent::algorithms::AllOptions()) {
    const std::string flag = "--" + std::string(declared.spec->name);
    if (app.count(flag) == 0) continue;
    bool taken = false;
    for (const std::string& name : algos) {
      auto spec = agent::algorithms::FindAlgorithm(name);
      if (!spec.ok()) return Status::Ok();  // the algorithm check reports it
      for (const auto& o : spec->options) taken |= o.name == declared.spec->name;
    }
    if (!taken) {
      std::string names;
      for (const std::string& name : algos) {
        if (!names.empty()) names += ",";
        names += name;
      }
      return Status::Invalid(flag + " is an option of " + declared.used_by + ", not of " +
                             (algos.size() == 1 ? "--algo " : "--compare ") + names);
    }
  }
  for (const std::string& name : algos) {
    auto spec = agent::algorithms::FindAlgorithm(name);
    if (!spec.ok()) return Status::Ok();
    if (auto resolved = agent::algorithms::ResolveOptions(*spec, given); !resolved.ok()) {
      return Status::Invalid(resolved.status().message() + " (--algo " + name + ")");
    }
  }
  return Status::Ok();
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
  // Only the running algorithm's own options: an agent rejects the others.
  auto spec = agent::algorithms::FindAlgorithm(options.algo);
  for (const auto& [name, value] : options.algo_options) {
    bool own = false;
    if (spec.ok()) {
      for (const auto& o : spec->options) own |= o.name == name;
    }
    if (!own) continue;
    args.emplace_back("--" + name);
    args.push_back(value);
  }
  return args;
}

void ConfigureLogging(const std::string& level, const std::string& node_label) {
  // Logs go to stderr; stdout stays for results (progress, JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("grapevine"));
  spdlog::set_level(spdlog::level::from_str(level));
  spdlog::set_pattern("[%H:%M:%S.%e] [" + node_label + "] [%^%l%$] %v");
}

}  // namespace grapevine::tools
