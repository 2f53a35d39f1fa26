#include "tools/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include "tools/report_data.h"
#include "tools/report_html.h"
#include "tools/report_topology.h"
#include "tools/svg_plot.h"
#include "topology/load.h"

namespace grapevine::tools {
namespace {

namespace fs = std::filesystem;

constexpr const char* kFaintColor = "#7b8794";
constexpr size_t kMaxMarkerPoints = 40;  // mean curves get point markers up to this length
constexpr const char* kAccuracyCaption =
    "<p class=\"muted\">x: rounds completed. Line: mean test accuracy of the agents that "
    "evaluated in that round; band: their min–max; faint lines: single agents (hover for the "
    "node).</p>";
constexpr const char* kCompareCaption =
    "<p class=\"muted\">x: rounds completed. Lines: mean test accuracy across agents per run; "
    "bands: min–max across agents; dashed: the target.</p>";
constexpr const char* kBytesCaption =
    "<p class=\"muted\">Bytes sent in each round, summed over agents (growth of every agent's "
    "bytes_out counter since its previous round).</p>";
constexpr const char* kBitsCaption =
    "<p class=\"muted\">x: log10 of the megabytes all agents had sent by that round; y: mean "
    "test accuracy across agents. Further left at equal height = fewer bytes to the same "
    "accuracy (compressed gossip).</p>";

class FileWriter {
 public:
  explicit FileWriter(std::string dir) : dir_(std::move(dir)) {}
  Status Write(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ + "/" + name, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) return Status::IoError(dir_ + "/" + name + ": cannot write");
    written_.push_back(name);
    return Status::Ok();
  }
  void Note(const std::string& name) { written_.push_back(name); }
  const std::vector<std::string>& written() const { return written_; }

 private:
  std::string dir_;
  std::vector<std::string> written_;
};

Status MakeDir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  return Status::Ok();
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::optional<double> SummaryNumber(const nlohmann::json& summary, const char* key) {
  return summary.is_object() ? NumberField(summary, key) : std::nullopt;
}

// Everything a report shows about one run, computed once.
struct RunView {
  const RunData* run = nullptr;
  std::vector<RoundAggregate> rounds;
  std::vector<AgentSummary> agents;
  RunTotals totals;
  std::optional<double> wall_seconds;
};

RunView MakeView(const RunData& run) {
  RunView v;
  v.run = &run;
  v.rounds = AggregateRounds(run.agents);
  for (const auto& a : run.agents) v.agents.push_back(SummarizeAgent(a));
  v.totals = ComputeTotals(v.agents);
  if (run.agents.empty() && run.summary.contains("final")) {  // a summary without metrics
    const auto& f = run.summary["final"];
    v.totals.final_mean = SummaryNumber(f, "mean_accuracy");
    v.totals.final_min = SummaryNumber(f, "min_accuracy");
    v.totals.final_max = SummaryNumber(f, "max_accuracy");
    if (auto b = SummaryNumber(run.summary, "bytes_sent_total")) v.totals.bytes_sent = static_cast<uint64_t>(*b);
  }
  v.wall_seconds = SummaryNumber(run.summary, "wall_seconds");
  return v;
}

// The min-max accuracy band of `v` across agents.
PlotBand AccuracyBand(const RunView& v, const std::string& color, const std::string& label,
                      double opacity) {
  PlotBand band{label, color, opacity, {}, {}, {}};
  for (const auto& g : v.rounds) {
    if (g.agents_evaluated == 0) continue;
    band.x.push_back(static_cast<double>(g.round));
    band.lo.push_back(g.min_accuracy);
    band.hi.push_back(g.max_accuracy);
  }
  return band;
}

// The mean accuracy across agents per round.
PlotLine MeanAccuracyLine(const RunView& v, const std::string& color, const std::string& label) {
  PlotLine mean{label, color, {}, 2.6, 1.0, false, false, label + " (mean over agents)"};
  for (const auto& g : v.rounds) {
    if (g.agents_evaluated > 0) mean.points.push_back({static_cast<double>(g.round), g.mean_accuracy});
  }
  mean.markers = mean.points.size() <= kMaxMarkerPoints;
  return mean;
}

PlotOptions AccuracyOptions(const std::string& title) {
  PlotOptions o;
  o.id = "accuracy";
  o.title = title;
  o.x_label = "round";
  o.y_label = "test accuracy";
  o.y_floor = 0;
  o.y_ceil = 1;
  o.x_integer = true;
  o.x_min = 1;  // rounds completed start at 1
  return o;
}

PlotOptions BytesOptions(const std::string& title, const std::string& unit) {
  PlotOptions o;
  o.id = "bytes";
  o.title = title;
  o.x_label = "round";
  o.y_label = "sent per round (" + unit + ")";
  o.y_from_zero = true;
  o.x_integer = true;
  o.x_min = 1;
  return o;
}

double MaxBytesPerRound(const std::vector<RunView>& views) {
  double m = 0;
  for (const auto& v : views) {
    for (const auto& g : v.rounds) m = std::max(m, static_cast<double>(g.bytes_sent));
  }
  return m;
}

PlotLine BytesLine(const RunView& v, const std::string& label, const std::string& color,
                   double divisor) {
  PlotLine line{label, color, {}, 2.2, 1.0, false, false, ""};
  for (const auto& g : v.rounds) {
    line.points.push_back({static_cast<double>(g.round), static_cast<double>(g.bytes_sent) / divisor});
  }
  line.markers = line.points.size() <= kMaxMarkerPoints;
  return line;
}

std::string RunAccuracySvg(const RunView& v) {
  SvgPlot plot(AccuracyOptions("Test accuracy per round — " + v.run->label + " (" +
                               std::to_string(v.agents.size()) + " agents)"));
  plot.AddBand(AccuracyBand(v, PaletteColor(0), "min–max across agents", 0.2));
  bool first = true;
  // Fainter the more agents there are, so 64 lines still read as a cloud around the mean.
  const double faint = std::clamp(6.0 / static_cast<double>(std::max<size_t>(v.agents.size(), 1)), 0.15, 0.45);
  for (const auto& a : v.agents) {
    PlotLine line{first ? "each agent" : "", kFaintColor, {}, 1.0, faint, false, false,
                  "node " + a.node};
    for (const auto& [round, acc] : a.accuracy) line.points.push_back({static_cast<double>(round), acc});
    if (line.points.empty()) continue;
    plot.AddLine(std::move(line));
    first = false;
  }
  plot.AddLine(MeanAccuracyLine(v, PaletteColor(0), "mean"));  // on top of the faint lines
  return plot.Render();
}

// Bits to accuracy: mean test accuracy against the bytes all agents sent so far, one
// line per run, bytes on a log10 axis (compressed runs send 10-100x less).
std::string AccuracyVersusBytesSvg(const std::vector<RunView>& views,
                                   const std::vector<RunData>& runs) {
  PlotOptions o = AccuracyOptions("Mean test accuracy against total bytes sent (bits to accuracy)");
  o.id = "accuracy_bytes";
  o.x_label = "total MB sent by all agents, log10 (1 = 10 MB, 2 = 100 MB, 3 = 1 GB)";
  o.x_integer = false;
  o.x_min.reset();
  SvgPlot plot(o);
  for (size_t i = 0; i < views.size(); ++i) {
    PlotLine line{runs[i].label, PaletteColor(i), {}, 2.4, 1.0, false, false, ""};
    double sent = 0;
    for (const auto& g : views[i].rounds) {
      sent += static_cast<double>(g.bytes_sent);
      if (g.agents_evaluated == 0 || sent <= 0) continue;
      line.points.push_back({std::log10(sent / 1e6), g.mean_accuracy});
    }
    line.markers = line.points.size() <= kMaxMarkerPoints;
    if (!line.points.empty()) plot.AddLine(std::move(line));
  }
  return plot.Render();
}

std::string RunBytesSvg(const RunView& v) {
  auto [div, unit] = ByteUnit(MaxBytesPerRound({v}));
  SvgPlot plot(BytesOptions("Bytes sent per round (all agents)", unit));
  plot.AddLine(BytesLine(v, "sum over agents", PaletteColor(0), div));
  return plot.Render();
}

std::string Swatch(const std::string& color) {
  return "<span class=\"swatch\" style=\"background:" + color + "\"></span>";
}

std::string Link(const std::string& href, const std::string& text) {
  return "<a href=\"" + XmlEscape(href) + "\">" + XmlEscape(text) + "</a>";
}

std::map<std::string, std::string> Addresses(const std::string& topology_path) {
  std::map<std::string, std::string> out;
  if (topology_path.empty()) return out;
  auto t = topology::LoadTopology(topology_path);
  if (!t.ok()) return out;
  for (const auto& n : t->nodes()) out[n.name] = n.addr;
  return out;
}

std::string ResultsTable(const RunView& v) {
  std::vector<std::vector<std::string>> rows;
  const auto& t = v.totals;
  rows.push_back({"final mean test accuracy", FormatAccuracy(t.final_mean)});
  rows.push_back({"final min / max", FormatAccuracy(t.final_min) + " / " + FormatAccuracy(t.final_max)});
  rows.push_back({"agents evaluated", std::to_string(t.agents_reporting) + " of " +
                                          std::to_string(v.agents.size())});
  rows.push_back({"rounds completed", std::to_string(t.rounds)});
  rows.push_back({"bytes sent (all agents)", FormatBytes(static_cast<double>(t.bytes_sent))});
  rows.push_back({"bytes received (all agents)", FormatBytes(static_cast<double>(t.bytes_received))});
  rows.push_back({"wall time", v.wall_seconds ? FormatFixed(*v.wall_seconds, 1) + " s" : "–"});
  return HtmlTable({"result", "value"}, rows);
}

// The summary.json scalars (settings such as algo, model, partition, topology).
std::string SettingsTable(const nlohmann::json& summary,
                          const std::string& heading = "summary.json") {
  std::vector<std::vector<std::string>> rows;
  if (summary.is_object()) {
    for (const auto& [key, value] : summary.items()) {
      if (value.is_structured()) continue;
      rows.push_back({XmlEscape(key), XmlEscape(JsonText(value))});
    }
  }
  if (rows.empty()) return "<p class=\"muted\">no summary.json values</p>";
  return HtmlTable({heading, "value"}, rows, false);
}

std::string AgentTable(const RunView& v, const std::string& dir,
                       const std::map<std::string, std::string>& addrs,
                       const AccuracyScale& scale) {
  std::vector<std::vector<std::string>> rows;
  // Stragglers (--slowdown, slowdown=F): a column only when some agent ran as one.
  const bool any_slowdown =
      std::any_of(v.agents.begin(), v.agents.end(), [](const auto& a) { return a.slowdown; });
  for (const auto& a : v.agents) {
    auto addr = addrs.find(a.node);
    std::string files;
    for (const auto& [sub, ext] : {std::pair{"metrics", ".jsonl"}, std::pair{"logs", ".log"}}) {
      std::string rel = std::string(sub) + "/" + a.node + ext;
      if (fs::exists(dir + "/" + rel)) files += (files.empty() ? "" : " · ") + Link(rel, sub);
    }
    rows.push_back({(a.final_accuracy ? Swatch(scale.Color(*a.final_accuracy)) : Swatch("#d9d9d9")) +
                        XmlEscape(a.node),
                    addr == addrs.end() ? "" : XmlEscape(addr->second),
                    FormatAccuracy(a.final_accuracy), std::to_string(a.rounds),
                    std::to_string(a.accuracy.size()),
                    FormatBytes(static_cast<double>(a.bytes_sent)),
                    FormatBytes(static_cast<double>(a.bytes_received)),
                    std::to_string(a.models_merged), std::to_string(a.models_rejected),
                    std::to_string(a.bad_lines), files});
    if (any_slowdown) {
      rows.back().insert(rows.back().begin() + 2, a.slowdown ? FormatFixed(*a.slowdown, 2) + "×"
                                                             : "1");
    }
  }
  std::vector<std::string> header{"node", "addr", "final accuracy", "rounds", "evaluations",
                                  "bytes sent", "bytes received", "models merged",
                                  "models rejected", "bad lines", "files"};
  if (any_slowdown) header.insert(header.begin() + 2, "slowdown");
  return HtmlTable(header, rows);
}

std::string RoundTable(const RunView& v) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& g : v.rounds) {
    auto acc = [&](double x) { return g.agents_evaluated > 0 ? FormatFixed(x, 4) : "–"; };
    rows.push_back({std::to_string(g.round), std::to_string(g.agents_logged),
                    std::to_string(g.agents_evaluated), acc(g.mean_accuracy),
                    acc(g.min_accuracy), acc(g.max_accuracy),
                    std::isfinite(g.mean_loss) ? FormatFixed(g.mean_loss, 4) : "–",
                    FormatBytes(static_cast<double>(g.bytes_sent))});
  }
  return "<details><summary>per-round table (" + std::to_string(rows.size()) +
         " rounds)</summary>\n" +
         HtmlTable({"round", "agents", "evaluated", "mean accuracy", "min", "max", "mean loss",
                    "bytes sent"},
                   rows) +
         "</details>";
}

std::string FileList(const std::string& dir, const std::vector<std::string>& written) {
  std::string items;
  for (const auto& name : written) items += "<li>" + Link(name, name) + "</li>";
  for (const char* extra : {"summary.json", "topology.dot", "metrics/", "logs/"}) {
    std::string name = extra;
    if (name.back() == '/' ? fs::is_directory(dir + "/" + name) : fs::exists(dir + "/" + name)) {
      items += "<li>" + Link(name, name) + "</li>";
    }
  }
  return "<ul class=\"files\">" + items + "<li>" + Link("report.html", "report.html") +
         "</li></ul>";
}

// compare.csv: the rows of compare.json's "runs", one per run; null is an empty cell.
std::string CompareCsv(const nlohmann::json& table) {
  static const char* const kColumns[] = {
      "run", "complete", "final_mean_accuracy", "final_min_accuracy", "final_max_accuracy",
      "rounds_to_target", "rounds", "bytes_sent_total", "bytes_to_target", "wall_seconds",
      "agents", "agents_reporting"};
  std::string out;
  for (const char* c : kColumns) out += std::string(out.empty() ? "" : ",") + c;
  out += "\n";
  for (const auto& row : table) {
    std::string line;
    bool first = true;
    for (const char* c : kColumns) {
      if (!first) line += ",";
      first = false;
      const auto it = row.find(c);
      if (it == row.end() || it->is_null()) continue;
      if (it->is_string()) {
        std::string text = it->get<std::string>();
        if (text.find_first_of(",\"\n") != std::string::npos) {
          std::string quoted = "\"";
          for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
          text = quoted + "\"";
        }
        line += text;
      } else if (it->is_number_float()) {
        char buf[32];  // 10 significant digits: 0.746, not 0.7459999999999999
        std::snprintf(buf, sizeof(buf), "%.10g", it->get<double>());
        line += buf;
      } else {
        line += it->dump();
      }
    }
    out += line + "\n";
  }
  return out;
}

std::string CommandBlock(const std::string& command) {
  return "<pre class=\"command\">" + XmlEscape(command.empty() ? "(not recorded)" : command) +
         "</pre>";
}

}  // namespace

Result<std::vector<std::string>> WriteRunReport(const std::string& dir, const RunData& run,
                                                const std::string& topology_dot_path,
                                                const std::string& command) {
  GV_RETURN_IF_ERROR(MakeDir(dir));
  FileWriter files(dir);
  const RunView v = MakeView(run);
  GV_RETURN_IF_ERROR(files.Write("metrics.csv", MetricsCsv({{run.label, &run.agents}}, false)));
  const std::string accuracy_svg = RunAccuracySvg(v);
  const std::string bytes_svg = RunBytesSvg(v);
  GV_RETURN_IF_ERROR(files.Write("accuracy.svg", accuracy_svg));
  GV_RETURN_IF_ERROR(files.Write("bytes.svg", bytes_svg));

  AccuracyScale scale{v.totals.final_min.value_or(0), v.totals.final_max.value_or(1)};
  std::map<std::string, double> finals;
  for (const auto& a : v.agents) {
    if (a.final_accuracy) finals[a.node] = *a.final_accuracy;
  }
  GV_ASSIGN_OR_RETURN(TopologyPicture picture,
                      WriteTopologyPicture(dir, topology_dot_path, finals, scale));
  if (!picture.file.empty()) files.Note(picture.file);

  std::string topo_html;
  if (picture.file == "topology.svg") {
    topo_html = "<div class=\"figure\"><img src=\"topology.svg\" alt=\"topology coloured by final "
                "accuracy\"></div>";
  }
  if (!picture.note.empty()) topo_html += "<p class=\"note\">" + XmlEscape(picture.note) + "</p>";

  std::string body;
  body += HtmlSection("Command", CommandBlock(command));
  body += HtmlSection("Summary", "<div style=\"display:flex;gap:32px;flex-wrap:wrap;"
                                 "align-items:flex-start\">" +
                                     ResultsTable(v) + SettingsTable(run.summary) + "</div>");
  body += HtmlSection("Test accuracy",
                      "<div class=\"figure\">" + accuracy_svg + "</div>" + kAccuracyCaption);
  body += HtmlSection("Traffic", "<div class=\"figure\">" + bytes_svg + "</div>" + kBytesCaption);
  body += HtmlSection("Topology", topo_html);
  body += HtmlSection("Agents", AgentTable(v, dir, Addresses(topology_dot_path), scale) +
                                    RoundTable(v));
  body += HtmlSection("Files", FileList(dir, files.written()));
  const std::string subtitle = run.label + " · " + std::to_string(run.agents.size()) +
                               " agents · report written " + UtcNow();
  GV_RETURN_IF_ERROR(files.Write("report.html", HtmlPage("grapevine run report", subtitle, body)));
  return files.written();
}

Result<std::vector<std::string>> WriteCompareReport(const std::string& dir,
                                                    const std::vector<RunData>& runs,
                                                    double target, const std::string& command,
                                                    const nlohmann::json& extra) {
  GV_RETURN_IF_ERROR(MakeDir(dir));
  FileWriter files(dir);
  std::vector<RunView> views;
  std::vector<CsvRun> csv;
  for (const auto& r : runs) {
    views.push_back(MakeView(r));
    csv.push_back({r.label, &r.agents});
  }
  GV_RETURN_IF_ERROR(files.Write("metrics.csv", MetricsCsv(csv, true)));

  SvgPlot accuracy(AccuracyOptions("Mean test accuracy per round (band: min–max across agents)"));
  auto [div, unit] = ByteUnit(MaxBytesPerRound(views));
  SvgPlot bytes(BytesOptions("Bytes sent per round (all agents)", unit));
  double x_lo = INFINITY, x_hi = -INFINITY;
  for (size_t i = 0; i < views.size(); ++i) {
    accuracy.AddBand(AccuracyBand(views[i], PaletteColor(i), "", 0.12));
    // Runs often send exactly the same bytes (same model): earlier runs are drawn wider so
    // a line hidden under a later one still shows as its border.
    PlotLine line = BytesLine(views[i], runs[i].label, PaletteColor(i), div);
    line.width = std::min(2.0 + 1.8 * static_cast<double>(views.size() - 1 - i), 8.0);
    line.markers = false;
    bytes.AddLine(std::move(line));
    for (const auto& g : views[i].rounds) {
      x_lo = std::min(x_lo, static_cast<double>(g.round));
      x_hi = std::max(x_hi, static_cast<double>(g.round));
    }
  }
  for (size_t i = 0; i < views.size(); ++i) {
    accuracy.AddLine(MeanAccuracyLine(views[i], PaletteColor(i), runs[i].label));
  }
  if (x_lo <= x_hi) {
    accuracy.AddLine({"target " + FormatFixed(target, 2), "#555555",
                      {{x_lo, target}, {x_hi, target}}, 1.2, 0.9, false, true, ""});
  }
  const std::string accuracy_svg = accuracy.Render();
  const std::string bytes_svg = bytes.Render();
  const std::string bits_svg = AccuracyVersusBytesSvg(views, runs);
  GV_RETURN_IF_ERROR(files.Write("accuracy.svg", accuracy_svg));
  GV_RETURN_IF_ERROR(files.Write("bytes.svg", bytes_svg));
  GV_RETURN_IF_ERROR(files.Write("accuracy_bytes.svg", bits_svg));

  std::optional<double> best;
  for (const auto& v : views) {
    if (v.totals.final_mean && (!best || *v.totals.final_mean > *best)) best = v.totals.final_mean;
  }
  nlohmann::json table = nlohmann::json::array();
  std::vector<std::vector<std::string>> rows;
  for (size_t i = 0; i < views.size(); ++i) {
    const RunView& v = views[i];
    const RunTotals& t = v.totals;
    auto to_target = RoundsToTarget(v.rounds, target);
    auto bytes_to_target = BytesToTarget(v.rounds, target);
    auto opt = [](const auto& o) { return o ? nlohmann::json(*o) : nlohmann::json(nullptr); };
    // A run is complete unless its summary says otherwise (launch stores "complete").
    const bool complete = !(runs[i].summary.is_object() && runs[i].summary.contains("complete") &&
                            runs[i].summary["complete"].is_boolean() &&
                            !runs[i].summary["complete"].get<bool>());
    table.push_back({{"run", runs[i].label}, {"complete", complete},
                     {"final_mean_accuracy", opt(t.final_mean)},
                     {"final_min_accuracy", opt(t.final_min)},
                     {"final_max_accuracy", opt(t.final_max)},
                     {"rounds_to_target", opt(to_target)}, {"rounds", t.rounds},
                     {"bytes_sent_total", t.bytes_sent},
                     {"bytes_to_target", opt(bytes_to_target)},
                     {"wall_seconds", opt(v.wall_seconds)},
                     {"agents", v.agents.size()}, {"agents_reporting", t.agents_reporting}});
    std::string name = runs[i].report_href.empty() ? XmlEscape(runs[i].label)
                                                   : Link(runs[i].report_href, runs[i].label);
    if (!complete) name += " <span class=\"muted\">(partial)</span>";
    std::string mean = FormatAccuracy(t.final_mean);
    if (t.final_mean && best && *t.final_mean == *best) mean = "<span class=\"best\">" + mean + "</span>";
    rows.push_back({Swatch(PaletteColor(i)) + name, mean, FormatAccuracy(t.final_min),
                    FormatAccuracy(t.final_max), to_target ? std::to_string(*to_target) : "—",
                    std::to_string(t.rounds), FormatBytes(static_cast<double>(t.bytes_sent)),
                    bytes_to_target ? FormatBytes(static_cast<double>(*bytes_to_target)) : "—",
                    v.wall_seconds ? FormatFixed(*v.wall_seconds, 1) : "–",
                    std::to_string(t.agents_reporting) + " / " + std::to_string(v.agents.size())});
  }
  nlohmann::json compare = extra.is_object() ? extra : nlohmann::json::object();
  compare["target"] = target;
  compare["runs"] = table;
  GV_RETURN_IF_ERROR(files.Write("compare.json", compare.dump(2) + "\n"));
  GV_RETURN_IF_ERROR(files.Write("compare.csv", CompareCsv(table)));

  std::string body;
  body += HtmlSection("Command", CommandBlock(command));
  body += HtmlSection(
      "Results",
      HtmlTable({"run", "final mean accuracy", "min", "max",
                 "rounds to " + FormatFixed(target, 2), "rounds", "bytes sent",
                 "bytes to " + FormatFixed(target, 2), "wall s", "agents evaluated"},
                rows) +
          "<p class=\"muted\">Final accuracy: each agent's last evaluation. Rounds to target: "
          "first round whose mean accuracy across agents reached the target (—: never); bytes "
          "to target: what all agents sent up to that round. "
          "Partial: the run was stopped or failed before its last round.</p>");
  if (extra.is_object() && extra.contains("setting") && extra["setting"].is_object()) {
    body += HtmlSection("Setting (every run)",
                        SettingsTable(extra["setting"], "compare.json setting"));
  }
  body += HtmlSection("Test accuracy",
                      "<div class=\"figure\">" + accuracy_svg + "</div>" + kCompareCaption);
  body += HtmlSection("Traffic", "<div class=\"figure\">" + bytes_svg + "</div>" + kBytesCaption);
  body += HtmlSection("Accuracy versus bytes",
                      "<div class=\"figure\">" + bits_svg + "</div>" + kBitsCaption);
  body += HtmlSection("Files", FileList(dir, files.written()));
  const std::string subtitle = "comparison of " + std::to_string(runs.size()) +
                               " runs · report written " + UtcNow();
  GV_RETURN_IF_ERROR(
      files.Write("report.html", HtmlPage("grapevine comparison report", subtitle, body)));
  return files.written();
}

}  // namespace grapevine::tools
