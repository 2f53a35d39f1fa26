// `--config FILE` for `grapevine agent` and `grapevine launch`: options from a TOML file.
//
// CLI11 2.1's own set_config() reads a config file for the main app only, so on a
// subcommand it silently did nothing. AddConfigOption() adds a plain `--config FILE`
// option; ApplyConfigFile() runs from the subcommand's callback, after the command line
// was parsed, and feeds each `key = value` of the file to the option `--key` as if it
// had been typed — same conversion, same validators — unless the command line already
// gave that option (flags override the file). Keys are the long option names without
// the dashes (`local-steps = 100`, `sync = true`, `topology = "ring.dot"` for launch's
// positional).
//
// Bad input is an error naming FILE:LINE: an unknown key, a [section], a value the
// option rejects. Nothing is partially applied that the caller then uses: on error the
// caller exits 2.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "base/status.h"

namespace grapevine::tools {

// Adds `--config FILE` to cmd, bound to *path.
void AddConfigOption(CLI::App* cmd, std::string* path);

// Applies `path` (no-op when empty) to cmd's options as described above.
Status ApplyConfigFile(CLI::App* cmd, const std::string& path);

}  // namespace grapevine::tools
