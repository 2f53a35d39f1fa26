#include "tools/topo_render.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <fstream>
#include <vector>

#include "topology/dot.h"

extern char** environ;

namespace grapevine::tools {
namespace {

std::string Weight(double w) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3g", w);
  return buffer;
}

std::string Extension(const std::string& path) {
  size_t dot = path.find_last_of('.');
  size_t slash = path.find_last_of('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  return path.substr(dot + 1);
}

std::string WithExtension(const std::string& path, const std::string& ext) {
  std::string current = Extension(path);
  std::string base = current.empty() ? path : path.substr(0, path.size() - current.size() - 1);
  return base + "." + ext;
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IoError(path + ": cannot write");
  return Status::Ok();
}

}  // namespace

std::optional<std::string> FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return std::nullopt;
  std::string dirs = path;
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos) end = dirs.size();
    std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::string RenderDot(const topology::Topology& t, const topology::MixingMatrix* mixing) {
  using topology::DotId;
  const bool directed = t.directed();
  std::string out = std::string(directed ? "digraph" : "graph") + " topology {\n";
  out += "  graph [overlap=false, splines=true, fontname=\"Helvetica\"];\n";
  out += "  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=10];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=9];\n";
  auto node_line = [&](int i, const char* indent) {
    const topology::Node& node = t.node(i);
    std::string label = node.name;
    if (!node.addr.empty()) label += "\\n" + node.addr;
    if (mixing) label += "\\nw_ii=" + Weight(mixing->w.coeff(i, i));
    out += indent + DotId(node.name) + " [label=" + DotId(label) + "];\n";
  };
  // Groups in the order of their first node; ungrouped nodes outside any cluster.
  std::vector<std::string> groups;
  for (const topology::Node& node : t.nodes()) {
    if (!node.group.empty() && std::find(groups.begin(), groups.end(), node.group) == groups.end()) {
      groups.push_back(node.group);
    }
  }
  for (const std::string& g : groups) {
    out += "  subgraph " + DotId("cluster_" + g) + " {\n";
    out += "    label=" + DotId("group " + g) + "; style=rounded; color=\"#888888\";\n";
    for (int i = 0; i < t.num_nodes(); ++i) {
      if (t.node(i).group == g) node_line(i, "    ");
    }
    out += "  }\n";
  }
  for (int i = 0; i < t.num_nodes(); ++i) {
    if (t.node(i).group.empty()) node_line(i, "  ");
  }
  const char* op = directed ? " -> " : " -- ";
  for (int u = 0; u < t.num_nodes(); ++u) {
    for (int v : t.OutNeighbors(u)) {
      if (!directed && v < u) continue;
      out += "  " + DotId(t.node(u).name) + op + DotId(t.node(v).name);
      if (mixing) {
        // Row = receiver: on u -> v the weight v gives u's model is w_vu.
        double w_vu = mixing->w.coeff(v, u);
        double w_uv = mixing->w.coeff(u, v);
        std::string label = directed || w_uv == w_vu ? Weight(w_vu)
                                                     : Weight(w_uv) + " / " + Weight(w_vu);
        out += " [label=" + DotId(label) + "]";
      }
      out += ";\n";
    }
  }
  out += "}\n";
  return out;
}

Status RenderToFile(const std::string& dot, const std::string& out, bool directed,
                    bool clusters) {
  std::string ext = Extension(out);
  if (ext == "dot" || ext == "gv") return WriteFile(out, dot);
  if (ext != "svg" && ext != "png") {
    return Status::Invalid(out + ": output must end in .svg, .png or .dot");
  }
  const std::string engine = directed ? "dot" : clusters ? "fdp" : "neato";
  std::optional<std::string> program = FindOnPath(engine);
  if (!program) {
    std::string dot_path = WithExtension(out, "dot");
    GV_RETURN_IF_ERROR(WriteFile(dot_path, dot));
    return Status::Unavailable("Graphviz `" + engine + "` not found; wrote " + dot_path +
                               " instead. Install Graphviz (Debian/Ubuntu: sudo apt-get install "
                               "graphviz) and run: " + engine + " -T" + ext + " " + dot_path +
                               " -o " + out);
  }
  char temp[] = "/tmp/grapevine-render-XXXXXX.dot";
  int fd = ::mkstemps(temp, 4);
  if (fd < 0) return Status::IoError(std::string("cannot create a temporary file: ") + std::strerror(errno));
  ::close(fd);
  Status written = WriteFile(temp, dot);
  if (!written.ok()) {
    ::unlink(temp);
    return written;
  }
  std::string format = "-T" + ext;
  std::vector<std::string> args{engine, format, "-o", out, temp};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program->c_str(), nullptr, nullptr, argv.data(), environ);
  int status = 0;
  if (rc == 0) ::waitpid(pid, &status, 0);
  ::unlink(temp);
  if (rc != 0) return Status::IoError("cannot run " + *program + ": " + std::strerror(rc));
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Internal(engine + " failed to render " + out);
  }
  return Status::Ok();
}

}  // namespace grapevine::tools
