#include "tools/config_file.h"

#include <fstream>
#include <sstream>
#include <vector>

namespace grapevine::tools {
namespace {

// 1-based line of the first `key =` in the file, 0 if not found (CLI11's items do
// not carry line numbers).
int LineOf(const std::vector<std::string>& lines, const std::string& key) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const size_t start = l.find_first_not_of(" \t");
    if (start == std::string::npos || l.compare(start, key.size(), key) != 0) continue;
    const size_t after = l.find_first_not_of(" \t", start + key.size());
    if (after != std::string::npos && l[after] == '=') return static_cast<int>(i) + 1;
  }
  return 0;
}

}  // namespace

void AddConfigOption(CLI::App* cmd, std::string* path) {
  cmd->add_option("--config", *path,
                  "TOML file with any of these options, key = long name without dashes "
                  "(flags given on the command line override it)");
}

Status ApplyConfigFile(CLI::App* cmd, const std::string& path) {
  if (path.empty()) return Status::Ok();
  std::ifstream in(path);
  if (!in) return Status::Invalid("--config: cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> lines;
  for (std::string l; std::getline(text, l);) lines.push_back(l);
  text.clear();
  text.seekg(0);

  std::vector<CLI::ConfigItem> items;
  try {
    items = CLI::ConfigTOML().from_config(text);
  } catch (const CLI::Error& e) {
    return Status::Invalid(path + ": " + e.what());
  }
  for (const CLI::ConfigItem& item : items) {
    const int line = LineOf(lines, item.name);
    const std::string where = path + ":" + std::to_string(line) + ": ";
    if (item.name == "++" || item.name == "--" || !item.parents.empty()) {
      return Status::Invalid(path + ": sections are not supported ([" +
                             (item.parents.empty() ? item.name : item.parents.front()) +
                             "]); write the options at the top level");
    }
    if (item.name == "config" || item.name == "help") {
      return Status::Invalid(where + "'" + item.name + "' cannot be set from a config file");
    }
    CLI::Option* op = cmd->get_option_no_throw("--" + item.name);
    if (op == nullptr) op = cmd->get_option_no_throw(item.name);  // a positional
    if (op == nullptr) {
      return Status::Invalid(where + "unknown option '" + item.name + "'");
    }
    if (op->count() > 0) continue;  // given on the command line: it wins
    for (const CLI::Option* other : op->get_excludes()) {
      if (other->count() > 0) {
        return Status::Invalid(where + "'" + item.name + "' cannot be used with " +
                               other->get_name());
      }
    }
    try {
      op->add_result(item.inputs);
      op->run_callback();
    } catch (const CLI::Error& e) {
      return Status::Invalid(where + e.what());
    }
  }
  return Status::Ok();
}

}  // namespace grapevine::tools
