// `grapevine topo ...` end to end: runs the real binary, checks exit codes, output and
// the files it writes.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "topology/load.h"

namespace grapevine::topology {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

class TopoCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/topo-cli-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Slurp(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
  }

  // `env` is prepended to the command (e.g. "PATH=/nonexistent ").
  CliRun Exec(const std::string& args, const std::string& env = "") {
    fs::path out = dir_ / "stdout";
    fs::path err = dir_ / "stderr";
    std::string command = env + "'" + std::string(GRAPEVINE_EXE) + "' " + args + " >'" +
                          out.string() + "' 2>'" + err.string() + "'";
    int status = std::system(command.c_str());
    CliRun run;
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.out = Slurp(out);
    run.err = Slurp(err);
    return run;
  }

  std::string Example(const std::string& name) {
    return std::string(GRAPEVINE_SOURCE_DIR) + "/examples/" + name;
  }

  fs::path dir_;
};

TEST_F(TopoCliTest, GenWritesAStartableFile) {
  fs::path file = dir_ / "t.dot";
  CliRun run = Exec("topo gen torus 9 --seed 3 --base-port 48000 -o " + file.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  Topology t = LoadTopology(file.string()).value();
  EXPECT_EQ(t.num_nodes(), 9);
  EXPECT_EQ(t.num_edges(), 18);
  EXPECT_EQ(t.addr(8), "127.0.0.1:48008");
  EXPECT_EQ(Exec("topo check " + file.string()).exit_code, 0);
}

TEST_F(TopoCliTest, GenRejectsBadRequests) {
  EXPECT_EQ(Exec("topo gen hypercube 12").exit_code, 2);
  EXPECT_EQ(Exec("topo gen pretzel 12").exit_code, 2);
  CliRun run = Exec("topo gen erdos-renyi 60 --p 0.001");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("not connected"), std::string::npos) << run.err;
}

TEST_F(TopoCliTest, GenDirectedRingAndInspectIt) {
  fs::path file = dir_ / "ring8d.dot";
  CliRun run = Exec("topo gen ring 8 --directed -o " + file.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::string text = Slurp(file);
  EXPECT_NE(text.find("digraph ring8"), std::string::npos) << text;
  EXPECT_NE(text.find("--directed"), std::string::npos) << text;  // the command line comment
  EXPECT_NE(text.find("7 -> 0"), std::string::npos) << text;
  Topology t = LoadTopology(file.string()).value();
  ASSERT_TRUE(t.directed());
  EXPECT_EQ(t.OutNeighbors(3), std::vector<int>{4});
  EXPECT_EQ(t.addr(7), "127.0.0.1:30007");

  run = Exec("topo inspect " + file.string() + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["directed"], true);
  EXPECT_EQ(j["weights"], "push-sum");
  EXPECT_EQ(j["metropolis_exists"], false);
  EXPECT_EQ(j["out_degree"]["max"], 1);
  EXPECT_EQ(j["consensus_rounds"], 88);
  run = Exec("topo inspect " + file.string());
  EXPECT_NE(run.out.find("metropolis  does not exist for a digraph"), std::string::npos) << run.out;
  EXPECT_EQ(Exec("topo check " + file.string()).exit_code, 0);
  run = Exec("topo check " + file.string() + " --weights metropolis");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("do not exist for a digraph"), std::string::npos) << run.err;

  EXPECT_EQ(Exec("topo gen star 5 --directed").exit_code, 2);
  run = Exec("topo gen erdos-renyi 12 --p 0.3 --seed 4 --directed");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("digraph"), std::string::npos);
}

TEST_F(TopoCliTest, CheckNamesTheNodeThatCannotReachTheOthers) {
  fs::path file = dir_ / "oneway.dot";
  std::ofstream(file) << "digraph {\n  a -> b -> a\n  c\n  b -> c\n}\n";
  CliRun run = Exec("topo check " + file.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find(file.string() + ":3: error: graph is not strongly connected"),
            std::string::npos) << run.err;
  EXPECT_NE(run.err.find("node c cannot reach node a"), std::string::npos) << run.err;
  run = Exec("topo inspect " + file.string() + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["unreachable"]["from"], "c");
  EXPECT_TRUE(j["consensus_rounds"].is_null());
}

TEST_F(TopoCliTest, InspectJson) {
  CliRun run = Exec("topo inspect " + Example("ring8.graphml") + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["nodes"], 8);
  EXPECT_EQ(j["connected"], true);
  EXPECT_EQ(j["diameter"], 4);
  EXPECT_EQ(j["consensus_rounds"], 32);
  EXPECT_EQ(j["node_list"][7]["addr"], "127.0.0.1:30007");
  run = Exec("topo inspect " + Example("complete5.dot") + " --weights uniform --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["rho"], 0.0);
}

TEST_F(TopoCliTest, InspectTextAndDisconnectedWarning) {
  fs::path file = dir_ / "split.edges";
  std::ofstream(file) << "0 1\n2 3\n";
  CliRun run = Exec("topo inspect " + file.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("connected   no (2 components)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("warning: graph is disconnected"), std::string::npos) << run.out;
}

TEST_F(TopoCliTest, ParseErrorsExit2WithFileAndLine) {
  fs::path file = dir_ / "bad.dot";
  std::ofstream(file) << "graph {\n  a -- b\n  b -> c\n}\n";
  for (const char* sub : {"inspect", "check"}) {
    CliRun run = Exec(std::string("topo ") + sub + " " + file.string());
    EXPECT_EQ(run.exit_code, 2);
    EXPECT_NE(run.err.find(file.string() + ":3:"), std::string::npos) << run.err;
  }
  EXPECT_EQ(Exec("topo inspect " + (dir_ / "missing.dot").string()).exit_code, 2);
}

TEST_F(TopoCliTest, CheckListsEveryProblem) {
  fs::path file = dir_ / "bad.dot";
  std::ofstream(file) << "graph {\n a [addr=\"h:1\"]\n b [addr=\"h:1\"]\n c [addr=\"h\"]\n"
                         " a -- a\n a -- b\n b -- a\n d [addr=\"h:4\"]\n a -- zz [weight=w]\n}\n";
  CliRun run = Exec("topo check " + file.string());
  EXPECT_EQ(run.exit_code, 2);
  for (const char* expected : {":3: error: duplicate addr", ":4: error: node c: malformed addr",
                               ":5: error: self-loop", ":7: error: duplicate edge",
                               ":9: error: edge weight 'w' is not a number",
                               ":9: error: edge names unknown node 'zz'",
                               "error: graph is disconnected"}) {
    EXPECT_NE(run.err.find(expected), std::string::npos) << expected << "\n" << run.err;
  }
  EXPECT_EQ(Exec("topo check " + Example("complete8.dot")).exit_code, 0);
}

TEST_F(TopoCliTest, CheckDirectedMetropolisGivesHint) {
  fs::path file = dir_ / "d.dot";
  std::ofstream(file) << "digraph { a -> b -> a }\n";
  EXPECT_EQ(Exec("topo check " + file.string()).exit_code, 0);  // default: push-sum
  CliRun run = Exec("topo check " + file.string() + " --weights metropolis");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("--weights push-sum"), std::string::npos) << run.err;
}

TEST_F(TopoCliTest, RenderDotAndSvg) {
  fs::path dot = dir_ / "r.dot";
  ASSERT_EQ(Exec("topo render " + Example("ring4.dot") + " --weights metropolis -o " + dot.string()).exit_code, 0);
  std::string text = Slurp(dot);
  EXPECT_NE(text.find("127.0.0.1:30003"), std::string::npos);
  EXPECT_NE(text.find("label=0.333"), std::string::npos) << text;
  fs::path svg = dir_ / "r.svg";
  CliRun run = Exec("topo render " + Example("ring4.dot") + " -o " + svg.string());
  if (std::system("command -v neato >/dev/null 2>&1") == 0) {
    ASSERT_EQ(run.exit_code, 0) << run.err;
    EXPECT_NE(Slurp(svg).find("<svg"), std::string::npos);
  }
  // Without Graphviz on PATH: exit 1, say how to install, still write the DOT.
  fs::path svg2 = dir_ / "nographviz.svg";
  run = Exec("topo render " + Example("ring4.dot") + " -o " + svg2.string(), "PATH=/nonexistent ");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("apt-get install graphviz"), std::string::npos) << run.err;
  EXPECT_TRUE(fs::exists(dir_ / "nographviz.dot"));
}

TEST_F(TopoCliTest, GroupsGenInspectRenderAndCheck) {
  fs::path file = dir_ / "g.dot";
  CliRun run = Exec("topo gen groups 4 2 --base-port 48100 -o " + file.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.err.find("8 nodes, 8 edges"), std::string::npos) << run.err;
  EXPECT_NE(Slurp(file).find("group=g3"), std::string::npos) << Slurp(file);
  EXPECT_EQ(Exec("topo check " + file.string()).exit_code, 0);

  run = Exec("topo inspect " + file.string());
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("groups (4, metropolis weights inside each)"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("inter-group 4 group links over 4 bridge edges   rho 0.333333"),
            std::string::npos) << run.out;
  run = Exec("topo inspect " + file.string() + " --json");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  nlohmann::json j = nlohmann::json::parse(run.out);
  EXPECT_EQ(j["groups"]["list"].size(), 4u);
  EXPECT_EQ(j["groups"]["list"][1]["name"], "g1");
  EXPECT_EQ(j["groups"]["list"][1]["size"], 2);
  EXPECT_NEAR(j["groups"]["list"][1]["rho"].get<double>(), 0.0, 1e-9);
  EXPECT_NEAR(j["groups"]["inter"]["rho"].get<double>(), 1.0 / 3.0, 1e-9);

  fs::path drawn = dir_ / "drawn.dot";
  ASSERT_EQ(Exec("topo render " + file.string() + " -o " + drawn.string()).exit_code, 0);
  const std::string text = Slurp(drawn);
  EXPECT_NE(text.find("subgraph cluster_g0"), std::string::npos) << text;
  EXPECT_NE(text.find("label=\"group g3\""), std::string::npos) << text;

  EXPECT_EQ(Exec("topo check " + Example("groups8.dot")).exit_code, 0);
  EXPECT_EQ(Exec("topo gen groups 4").exit_code, 2);                   // no K
  EXPECT_EQ(Exec("topo gen groups 4 2 --inter star").exit_code, 2);
  EXPECT_EQ(Exec("topo gen groups 4 2 --bridges 3").exit_code, 2);
  EXPECT_EQ(Exec("topo gen ring 4 2").exit_code, 2);                   // K is for groups
}

TEST_F(TopoCliTest, BadGroupsExit2WithFileAndLine) {
  fs::path file = dir_ / "partial.dot";
  std::ofstream(file) << "graph {\n a [group=x]\n b\n a -- b\n}\n";
  for (const char* sub : {"check", "inspect"}) {
    CliRun run = Exec(std::string("topo ") + sub + " " + file.string());
    EXPECT_EQ(run.exit_code, 2) << sub;
    EXPECT_NE(run.err.find(file.string() + ":3: error: node b has no group"), std::string::npos)
        << sub << "\n" << run.err;
  }
  fs::path split = dir_ / "split.dot";
  std::ofstream(split) << "graph {\n a [group=x]\n b [group=y]\n c [group=x]\n a -- b -- c\n}\n";
  CliRun run = Exec("topo check " + split.string());
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_NE(run.err.find("group x is not connected inside"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace grapevine::topology
