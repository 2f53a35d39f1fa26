// `grapevine topo gen|inspect|check|render`: generate topology files, report on them
// (connectivity, degrees, diameter, mixing weights, spectral gap, consensus rounds),
// validate them and draw them. The analysis lives in topology/ (Analyze, Validate,
// report.h) so `grapevine topo live` can print the same report for a running swarm.
//
// Exit codes: 0 ok, 1 runtime failure (e.g. Graphviz missing for render), 2 bad input.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tools/command.h"
#include "tools/topo_render.h"
#include "topology/analyze.h"
#include "topology/dot.h"
#include "topology/generators.h"
#include "topology/groups.h"
#include "topology/load.h"
#include "topology/mixing.h"
#include "topology/number.h"
#include "topology/report.h"
#include "topology/validate.h"

namespace grapevine::tools {
namespace {

using namespace grapevine::topology;

int FailTopo(const Status& status) { return CommandFailed("topo", status); }

// Reads FILE and stops at any reader error (every one listed, with line numbers).
Result<Topology> ReadOrReport(const std::string& path) {
  std::vector<Issue> issues;
  GV_ASSIGN_OR_RETURN(Topology topology, ReadTopologyFile(path, &issues));
  // Groups that break the rules (groups.h) have no per-group report and no clusters.
  std::vector<Issue> groups = ValidateGroups(topology);
  issues.insert(issues.end(), groups.begin(), groups.end());
  if (HasErrors(issues)) return Status::Invalid(FormatIssues(path, issues));
  return topology;
}

Result<WeightsKind> ChooseWeights(const std::string& flag, const Topology& topology) {
  if (flag.empty()) return DefaultWeightsKind(topology);
  return ParseWeightsKind(flag);
}

struct GenArgs {
  std::string kind;
  int n = 0;
  int degree = 0;
  double p = -1;
  uint64_t seed = 1;
  std::string host = "127.0.0.1";
  int base_port = kDefaultBasePort;
  bool directed = false;
  int group_size = 0;  // groups: K
  std::string inter = "ring";
  int bridges = 1;
  std::string out;
};

int RunGen(const GenArgs& args, const std::string& command_line) {
  Result<GraphKind> kind = ParseGraphKind(args.kind);
  if (!kind.ok()) return FailTopo(kind.status());
  GeneratorOptions options;
  options.degree = args.degree;
  options.p = args.p;
  options.seed = args.seed;
  options.host = args.host;
  options.base_port = args.base_port;
  options.directed = args.directed;
  if (*kind != GraphKind::kGroups && args.group_size > 0) {
    return FailTopo(Status::Invalid("a second number (K) is for `topo gen groups G K` only"));
  }
  Result<InterGroup> inter = ParseInterGroup(args.inter);
  if (!inter.ok()) return FailTopo(inter.status());
  options.group_size = args.group_size;
  options.inter = *inter;
  options.bridges = args.bridges;
  Result<Topology> topology = Generate(*kind, args.n, options);
  if (!topology.ok()) return FailTopo(topology.status());
  DotWriteOptions write;
  write.graph_name = args.kind + std::to_string(args.n);
  if (*kind == GraphKind::kGroups) write.graph_name += "x" + std::to_string(args.group_size);
  std::string text = "// " + command_line + "\n" + WriteDot(*topology, write);
  if (args.out.empty() || args.out == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return 0;
  }
  std::ofstream file(args.out, std::ios::binary | std::ios::trunc);
  file << text;
  file.close();
  if (!file) return FailTopo(Status::IoError(args.out + ": cannot write"));
  std::fprintf(stderr, "wrote %s: %s, %d nodes, %d edges\n", args.out.c_str(), args.kind.c_str(),
               topology->num_nodes(), topology->num_edges());
  return 0;
}

struct InspectArgs {
  std::string file;
  std::string weights;
  bool json = false;
};

int RunInspect(const InspectArgs& args) {
  Result<Topology> topology = ReadOrReport(args.file);
  if (!topology.ok()) return FailTopo(topology.status());
  Result<WeightsKind> weights = ChooseWeights(args.weights, *topology);
  if (!weights.ok()) return FailTopo(weights.status());
  Result<Report> report = Analyze(*topology, *weights);
  if (!report.ok()) return FailTopo(report.status());
  if (args.json) {
    std::cout << ReportToJson(*report).dump(2) << "\n";
  } else {
    std::cout << ReportToText(*report);
  }
  return 0;
}

struct CheckArgs {
  std::string file;
  std::string weights;
};

int RunCheck(const CheckArgs& args) {
  // Reader problems (unknown node, bad weight) and validation problems in one list.
  std::vector<Issue> issues;
  Result<Topology> topology = ReadTopologyFile(args.file, &issues);
  if (!topology.ok()) return FailTopo(topology.status());
  Result<WeightsKind> weights = ChooseWeights(args.weights, *topology);
  if (!weights.ok()) return FailTopo(weights.status());
  std::vector<Issue> more = Validate(*topology, ValidateOptions{*weights, true});
  issues.insert(issues.end(), more.begin(), more.end());
  std::stable_sort(issues.begin(), issues.end(), [](const Issue& x, const Issue& y) {
    return (x.line > 0 ? x.line : 1 << 30) < (y.line > 0 ? y.line : 1 << 30);
  });
  for (const Issue& issue : issues) {
    std::fprintf(stderr, "%s\n", FormatIssue(args.file, issue).c_str());
  }
  if (HasErrors(issues)) {
    int errors = 0;
    for (const Issue& issue : issues) errors += issue.severity == Severity::kError;
    std::fprintf(stderr, "%s: %d problem%s: not usable\n", args.file.c_str(), errors,
                 errors == 1 ? "" : "s");
    return 2;
  }
  std::printf("%s: ok (%d nodes, %d edges, %s, %s weights)\n", args.file.c_str(),
              topology->num_nodes(), topology->num_edges(),
              topology->directed() ? "strongly connected digraph" : "connected",
              WeightsKindName(*weights));
  return 0;
}

struct RenderArgs {
  std::string file;
  std::string out;
  std::string weights;
};

int RunRender(const RenderArgs& args) {
  Result<Topology> topology = ReadOrReport(args.file);
  if (!topology.ok()) return FailTopo(topology.status());
  std::unique_ptr<MixingMatrix> mixing;
  if (!args.weights.empty()) {
    Result<WeightsKind> kind = ParseWeightsKind(args.weights);
    if (!kind.ok()) return FailTopo(kind.status());
    Result<MixingMatrix> w = MixingWeights(*topology, *kind);
    if (!w.ok()) return FailTopo(w.status());
    mixing = std::make_unique<MixingMatrix>(std::move(w).value());
  }
  Status status = RenderToFile(RenderDot(*topology, mixing.get()), args.out, topology->directed(),
                               HasGroups(*topology));
  if (!status.ok()) return FailTopo(status);
  std::fprintf(stderr, "wrote %s\n", args.out.c_str());
  return 0;
}

std::string JoinArgs(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : " ") + p;
  return out;
}

void RegisterTopo(CLI::App& app, CommandContext& ctx) {
  CLI::App* topo = app.add_subcommand("topo", "Generate, inspect, check and render topology files");
  topo->require_subcommand(1);
  const std::string weights_help = "Mixing weights: metropolis, uniform, file or push-sum "
                                   "(default: metropolis for graphs, push-sum for digraphs)";
  auto weights_check = CLI::IsMember({"metropolis", "uniform", "file", "push-sum"});

  auto gen = std::make_shared<GenArgs>();
  CLI::App* gen_cmd = topo->add_subcommand("gen", "Write a generated topology as DOT with addr attributes");
  gen_cmd->add_option("KIND", gen->kind, "Graph kind")->required()->check(CLI::IsMember(GraphKindNames()));
  gen_cmd->add_option("N", gen->n, "Number of nodes (groups: number of groups G)")->required();
  gen_cmd->add_option("K", gen->group_size, "groups only: nodes per group");
  gen_cmd->add_option("--inter", gen->inter, "groups: the graph between groups, ring or complete")
      ->capture_default_str();
  gen_cmd->add_option("--bridges", gen->bridges, "groups: edges joining each linked pair of groups (1..K)")
      ->capture_default_str();
  gen_cmd->add_option("--degree", gen->degree, "Degree for random-regular and small-world (default 4)");
  gen_cmd->add_option("--p", gen->p, "Edge probability (erdos-renyi) or rewiring probability (small-world)");
  gen_cmd->add_option("--seed", gen->seed, "Random seed")->capture_default_str();
  gen_cmd->add_option("--host", gen->host, "Host for addr attributes (empty: no addr)")->capture_default_str();
  gen_cmd->add_option("--base-port", gen->base_port, "Port of node 0; node i gets base-port+i")->capture_default_str();
  gen_cmd->add_flag("--directed", gen->directed,
                    "Write a digraph (ring: i -> i+1; exponential: i -> i+2^k; erdos-renyi: "
                    "ordered pairs, strongly connected)");
  gen_cmd->add_option("-o,--output", gen->out, "Output file (default: stdout)");
  gen_cmd->callback([gen, &ctx] {
    std::vector<std::string> parts{"grapevine topo gen", gen->kind, std::to_string(gen->n)};
    if (gen->group_size > 0) {
      parts.push_back(std::to_string(gen->group_size));
      parts.push_back("--inter " + gen->inter);
      parts.push_back("--bridges " + std::to_string(gen->bridges));
    }
    if (gen->degree > 0) parts.push_back("--degree " + std::to_string(gen->degree));
    if (gen->p >= 0) parts.push_back("--p " + FormatDouble(gen->p));
    parts.push_back("--seed " + std::to_string(gen->seed));
    if (gen->directed) parts.push_back("--directed");
    ctx.exit_code = RunGen(*gen, JoinArgs(parts));
  });

  auto inspect = std::make_shared<InspectArgs>();
  CLI::App* inspect_cmd = topo->add_subcommand("inspect", "Report connectivity, degrees, diameter, weights, spectral gap");
  inspect_cmd->add_option("FILE", inspect->file, "Topology file (.dot, .graphml, .edges)")->required();
  inspect_cmd->add_option("--weights", inspect->weights, weights_help)->check(weights_check);
  inspect_cmd->add_flag("--json", inspect->json, "Print one JSON object");
  inspect_cmd->callback([inspect, &ctx] { ctx.exit_code = RunInspect(*inspect); });

  auto check = std::make_shared<CheckArgs>();
  CLI::App* check_cmd = topo->add_subcommand("check", "Validate a topology file: exit 0 when usable, 2 with every problem listed");
  check_cmd->add_option("FILE", check->file, "Topology file")->required();
  check_cmd->add_option("--weights", check->weights, weights_help)->check(weights_check);
  check_cmd->callback([check, &ctx] { ctx.exit_code = RunCheck(*check); });

  auto render = std::make_shared<RenderArgs>();
  CLI::App* render_cmd = topo->add_subcommand("render", "Draw the graph with ids, addresses and optional weights");
  render_cmd->add_option("FILE", render->file, "Topology file")->required();
  render_cmd->add_option("-o,--output", render->out, "OUT.svg, OUT.png or OUT.dot")->required();
  render_cmd->add_option("--weights", render->weights, "Label edges with these mixing weights")->check(weights_check);
  render_cmd->callback([render, &ctx] { ctx.exit_code = RunRender(*render); });
}

}  // namespace

GRAPEVINE_COMMAND(topo, RegisterTopo);

}  // namespace grapevine::tools
