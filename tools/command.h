// Subcommand registry for the `grapevine` CLI.
//
// Each subcommand lives in its own tools/<name>_cmd.cc and registers itself with
// GRAPEVINE_COMMAND(name, fn). `fn` adds a CLI11 subcommand to the app and sets its
// callback; the callback stores the process exit status in ctx.exit_code
// (0 success, 1 runtime failure, 2 bad input or usage — DESIGN §7).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "base/status.h"

namespace grapevine::tools {

struct CommandContext {
  int exit_code = 0;
};

using CommandRegistrar = void (*)(CLI::App& app, CommandContext& ctx);

// Called from static initialisers; returns true so it can initialise a bool.
bool RegisterCommand(const char* name, CommandRegistrar registrar);
// Every registered subcommand, by name.
std::map<std::string, CommandRegistrar>& CommandRegistry();

// Prints "grapevine <command>: <message>" to stderr; returns the exit code for it
// (ExitCodeFor: 2 for bad input, 1 otherwise).
int CommandFailed(const char* command, const Status& status);

}  // namespace grapevine::tools

#define GRAPEVINE_COMMAND(name, fn) \
  static const bool gv_command_registered_##name = ::grapevine::tools::RegisterCommand(#name, fn)
