// The `grapevine` command line: dispatches to the subcommands registered in
// tools/*_cmd.cc. Exit codes: 0 success, 1 runtime failure, 2 bad input or usage.
#include <malloc.h>

#include <cstdio>

#include "tools/command.h"

int main(int argc, char** argv) {
  using namespace grapevine::tools;
  // Models are tens of MB: keep freed model-sized blocks in the heap instead of returning
  // them to the kernel, so each received model does not page-fault fresh memory
  // (bench/agent/transport_bench measures the difference).
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  CLI::App app{"grapevine: decentralized training with gossip, no central server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "grapevine 0.1.0");
  CommandContext ctx;
  for (auto& [name, registrar] : CommandRegistry()) registrar(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  return ctx.exit_code;
}
