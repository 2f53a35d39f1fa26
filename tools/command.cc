#include "tools/command.h"

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

}  // namespace grapevine::tools
