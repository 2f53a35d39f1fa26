// ReadRunFolder (declared in tools/report.h): a run folder back into a RunData.
#include <algorithm>
#include <filesystem>
#include <fstream>

#include "tools/report.h"
#include "topology/load.h"

namespace grapevine::tools {

namespace fs = std::filesystem;

Result<RunData> ReadRunFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir + "/metrics", ec)) {
    return Status::NotFound(dir + " is not a run folder (no metrics/ inside)");
  }
  RunData run;
  std::ifstream summary_in(dir + "/summary.json");
  if (summary_in) {
    run.summary = nlohmann::json::parse(summary_in, nullptr, /*allow_exceptions=*/false);
    if (run.summary.is_discarded() || !run.summary.is_object()) run.summary = nlohmann::json::object();
  } else {
    run.summary = nlohmann::json::object();
  }
  auto algo = run.summary.find("algo");
  run.label = algo != run.summary.end() && algo->is_string()
                  ? algo->get<std::string>()
                  : fs::path(dir).lexically_normal().filename().string();
  if (run.label.empty()) run.label = fs::path(dir).lexically_normal().parent_path().filename().string();

  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir + "/metrics", ec)) {
    if (entry.path().extension() == ".jsonl") names.push_back(entry.path().stem().string());
  }
  if (ec) return Status::IoError("cannot list " + dir + "/metrics: " + ec.message());
  std::sort(names.begin(), names.end());
  // Topology order when the graph is there (node "10" after "9", as launch numbered them).
  if (auto topo = topology::LoadTopology(dir + "/topology.dot"); topo.ok()) {
    std::vector<std::string> ordered;
    for (const auto& node : topo->nodes()) {
      if (std::binary_search(names.begin(), names.end(), node.name)) ordered.push_back(node.name);
    }
    for (const auto& name : names) {
      if (std::find(ordered.begin(), ordered.end(), name) == ordered.end()) ordered.push_back(name);
    }
    names = std::move(ordered);
  }
  for (const auto& name : names) {
    GV_ASSIGN_OR_RETURN(AgentMetrics m, ReadAgentMetrics(dir + "/metrics/" + name + ".jsonl", name));
    run.agents.push_back(std::move(m));
  }
  return run;
}

}  // namespace grapevine::tools
