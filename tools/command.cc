#include "tools/command.h"

#include <cstdio>
#include <map>
#include <string>

namespace grapevine::tools {

std::map<std::string, CommandRegistrar>& CommandRegistry() {
  static std::map<std::string, CommandRegistrar> registry;
  return registry;
}

bool RegisterCommand(const char* name, CommandRegistrar registrar) {
  CommandRegistry()[name] = registrar;
  return true;
}

int CommandFailed(const char* command, const Status& status) {
  std::fprintf(stderr, "grapevine %s: %s\n", command, status.message().c_str());
  return ExitCodeFor(status);
}

}  // namespace grapevine::tools
