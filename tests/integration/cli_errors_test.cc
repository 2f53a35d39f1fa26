// Integration: bad input to `grapevine agent` exits 2 with a message that says what
// is wrong (base/status.h ExitCodeFor; issue 4, "what must hold" 6).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/integration/harness.h"

namespace grapevine::integration {
namespace {

class CliErrorsTest : public IntegrationTest {
 protected:
  std::string Ring() { return WriteRing("ring.dot", {FreePort(), FreePort(), FreePort()}); }
  static std::vector<std::string> Synthetic() {
    return {"--data", "synthetic", "--model", "mlp:20-32-4", "--rounds", "2"};
  }
  static std::vector<std::string> Concat(std::vector<std::string> a,
                                         const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }
  static bool Has(const std::string& text, const std::string& what) {
    return text.find(what) != std::string::npos;
  }
};

TEST_F(CliErrorsTest, MissingTopologyFile) {
  const std::string missing = dir() + "/missing.dot";
  RunResult r = Run(Concat({"agent", "--topology", missing, "--node", "0"}, Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "missing.dot")) << r.errors;
}

TEST_F(CliErrorsTest, NoSuchNode) {
  RunResult r = Run(Concat({"agent", "--topology", Ring(), "--node", "99"}, Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "99")) << r.errors;
}

TEST_F(CliErrorsTest, ModelDoesNotFitFashionMnist) {
  if (!std::filesystem::exists("/usr/share/datasets/fashion-mnist")) {
    GTEST_SKIP() << "fashion-mnist missing";
  }
  RunResult r = Run({"agent", "--topology", Ring(), "--node", "0", "--data", "fashion-mnist",
                     "--model", "mlp:1-2", "--rounds", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "mlp:1-2")) << r.errors;
  EXPECT_TRUE(Has(r.errors, "784")) << r.errors;  // names the input size it needs
}

// An agent reads its shard's pixels during set-up (learn/data_source.h): a training images
// file cut short fails there, before the agent trains, naming the file and the offset.
TEST_F(CliErrorsTest, TruncatedIdxImagesExitTwoNamingTheFile) {
  const std::string data = dir() + "/idx";
  std::filesystem::create_directories(data);
  auto write = [&](const std::string& name, std::vector<uint32_t> dims, size_t keep_payload) {
    std::vector<char> bytes = {0, 0, 8, static_cast<char>(dims.size())};
    size_t payload = 1;
    for (uint32_t d : dims) {
      payload *= d;
      for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<char>(d >> shift));
    }
    for (size_t i = 0; i < std::min(payload, keep_payload); ++i) {
      bytes.push_back(static_cast<char>(dims.size() == 1 ? i % 3 : (i * 7) % 256));
    }
    std::ofstream(data + "/" + name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  write("train-images-idx3-ubyte", {30, 4, 4}, 29 * 16 + 5);  // the last image is cut short
  write("train-labels-idx1-ubyte", {30}, 30);
  write("t10k-images-idx3-ubyte", {10, 4, 4}, 160);
  write("t10k-labels-idx1-ubyte", {10}, 10);
  RunResult r = Run({"agent", "--topology", Ring(), "--node", "0", "--data", "idx:" + data,
                     "--model", "mlp:16-8-3", "--rounds", "2"});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, data + "/train-images-idx3-ubyte: truncated at byte " +
                                std::to_string(16 + 29 * 16 + 5)))
      << r.errors;
}

TEST_F(CliErrorsTest, UnknownAlgo) {
  RunResult r = Run(Concat({"agent", "--topology", Ring(), "--node", "0", "--algo", "nosuchalgo"},
                           Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "nosuchalgo")) << r.errors;
}

TEST_F(CliErrorsTest, AnOptionOfAnotherAlgorithmIsRejected) {
  // --compress belongs to dpsgd, cga, choco and efficient-adam: dimat (and launch --compare without
  // them) refuse it, and dpsgd refuses the codecs only choco takes.
  RunResult r = Run(Concat({"agent", "--topology", Ring(), "--node", "0", "--algo", "dimat",
                            "--compress", "sign"},
                           Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find("--compress is an option of dpsgd, cga, choco, efficient-adam, not "
                          "of --algo dimat"),
            std::string::npos)
      << r.errors;
  r = Run({"launch", "--compare", "dimat,wa", "--compress", "q8", "--out", dir() + "/cmp"});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find("not of --compare dimat,wa"), std::string::npos) << r.errors;
  r = Run({"launch", "--compare", "choco,dpsgd", "--compress", "topk:0.01", "--out",
           dir() + "/cmp2"});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find("topk:0.01 is not a dpsgd or cga codec"), std::string::npos) << r.errors;
  r = Run(Concat({"agent", "--topology", Ring(), "--node", "0", "--algo", "choco",
                  "--compress", "topk:2"},
                 Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find("topk:2"), std::string::npos) << r.errors;
  r = Run(Concat({"agent", "--topology", Ring(), "--node", "0", "--algo", "efficient-adam",
                  "--compress", "none"},
                 Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_NE(r.errors.find("efficient-adam compresses both ways"), std::string::npos) << r.errors;
}

TEST_F(CliErrorsTest, GlobalSamplingNeedsTheTopologyAndAGoodAlpha) {
  RunResult r = Run(Concat({"agent", "--join", "127.0.0.1:1", "--listen", "127.0.0.1:0",
                            "--sampling", "ugs"},
                           Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "--sampling ugs needs --topology/--node")) << r.errors;
  r = Run(Concat({"agent", "--topology", Ring(), "--node", "0", "--sampling", "lds:0"},
                 Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "ALPHA must be a positive number")) << r.errors;
}

TEST_F(CliErrorsTest, BadNumbersSayWhatIsWrong) {
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--rounds", "0"}, "--rounds: must be positive, not 0"},
      {{"--lr", "abc"}, "--lr: must be a number, not 'abc'"},
      {{"--pretrain-steps", "-5"}, "--pretrain-steps: must be >= 0, not -5"},
      {{"--dimat-weight-prior", "-1"}, "--dimat-weight-prior: must be >= 0, not -1"},
      {{"--dimat-repair", "yes"}, "--dimat-repair: yes not in {off,matched,every}"},
  };
  for (const auto& [flags, message] : cases) {
    std::vector<std::string> args =
        Concat({"agent", "--topology", Ring(), "--node", "0"}, Synthetic());
    args.insert(args.end(), flags.begin(), flags.end());  // after Synthetic()'s --rounds
    RunResult r = Run(args);
    EXPECT_EQ(r.exit_code, 2) << flags[0] << ": " << r.errors;
    EXPECT_TRUE(Has(r.errors, message)) << r.errors;
  }
}

TEST_F(CliErrorsTest, MalformedTopologyNamesFileAndLine) {
  const std::string bad = dir() + "/bad.dot";
  WriteFile(bad,
            "graph g {\n"
            "  0 [addr=\"127.0.0.1:1\"];\n"
            "  0 -- -- 1 ;;; [\n"
            "}\n");
  RunResult r = Run(Concat({"agent", "--topology", bad, "--node", "0"}, Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "bad.dot:3")) << r.errors;
}

// --config: every key goes through the option's own validator, errors name file:line,
// and the command line wins over the file.
TEST_F(CliErrorsTest, ConfigFileIsReadCheckedAndOverridden) {
  const std::string config = dir() + "/run.toml";
  const std::pair<std::string, std::string> cases[] = {
      {"# comment\nlocal-steps = 5\nrounds = 0\n",
       "run.toml:3: --rounds: must be positive, not 0"},
      {"dimat-repair = \"sometimes\"\n",
       "run.toml:1: --dimat-repair: sometimes not in {off,matched,every}"},
      {"rounds = 3\nno-such-option = 1\n", "run.toml:2: unknown option 'no-such-option'"},
      {"[agent]\nrounds = 3\n", "sections are not supported ([agent])"},
      {"algo = \"nosuchalgo\"\n", "nosuchalgo"},
  };
  for (const auto& [text, message] : cases) {
    WriteFile(config, text);
    RunResult r = Run({"agent", "--topology", Ring(), "--node", "0", "--data", "synthetic",
                       "--config", config});
    EXPECT_EQ(r.exit_code, 2) << text << r.errors;
    EXPECT_TRUE(Has(r.errors, message)) << text << r.errors;
  }
  // The file's bad --rounds is overridden by the flag: the run gets as far as the node id.
  WriteFile(config, "rounds = 0\n");
  RunResult r = Run({"agent", "--topology", Ring(), "--node", "99", "--data", "synthetic",
                     "--config", config, "--rounds", "1"});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "no node '99'")) << r.errors;
  EXPECT_FALSE(Has(r.errors, "--rounds")) << r.errors;
  // launch reads the same files.
  WriteFile(config, "rounds = 0\n");
  r = Run({"launch", Ring(), "--data", "synthetic", "--config", config});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "run.toml:1: --rounds: must be positive, not 0")) << r.errors;
  const std::string missing = dir() + "/missing.toml";
  r = Run({"agent", "--topology", Ring(), "--node", "0", "--config", missing});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "missing.toml")) << r.errors;
}

TEST_F(CliErrorsTest, TopologyAndJoinTogetherIsUsageError) {
  RunResult r = Run(Concat({"agent", "--topology", Ring(), "--node", "0", "--join",
                            "127.0.0.1:1"},
                           Synthetic()));
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_FALSE(r.errors.empty());
}

// Addr-less topologies and --base-port (docs/cluster.md): each way it cannot work exits 2
// and says why. The launcher variables are blanked (empty counts as unset), so the test
// means the same inside a Slurm job.
TEST_F(CliErrorsTest, BasePortNeedsAnAllocationAndSaysWhatIsWrong) {
  const std::string ring = dir() + "/auto.dot";
  WriteFile(ring, "graph r {\n  0; 1 [addr=\"auto\"]; 2;\n  0 -- 1; 1 -- 2; 2 -- 0;\n}\n");
  const std::vector<std::string> no_launcher = {
      "SLURM_STEP_NODELIST=", "SLURM_JOB_NODELIST=", "SLURM_PROCID=", "OMPI_COMM_WORLD_SIZE=",
      "OMPI_COMM_WORLD_RANK=", "PMI_RANK="};
  auto agent = [&](std::vector<std::string> args, std::vector<std::string> env) {
    args.insert(args.begin(), {GrapevineBin(), "agent", "--topology", ring});
    for (const auto& s : Synthetic()) args.push_back(s);
    env.insert(env.begin(), no_launcher.begin(), no_launcher.end());
    return RunArgv(args, seconds(30), env);
  };
  struct Case {
    std::vector<std::string> args, env;
    std::string message;
  };
  const Case cases[] = {
      {{"--node", "0"}, {}, "auto.dot: node '0' has no addr: give it addr=HOST:PORT, or start "
                            "the agents with srun and --base-port P"},
      {{"--node", "0", "--base-port", "47000"}, {}, "no allocation in the environment"},
      {{"--base-port", "47000"},
       {"SLURM_STEP_NODELIST=n[1-", "SLURM_STEP_TASKS_PER_NODE=3", "SLURM_PROCID=0"},
       "SLURM_STEP_NODELIST=n[1-: '[' without ']'"},
      {{"--base-port", "47000"},
       {"SLURM_STEP_NODELIST=n[1-3]", "SLURM_STEP_TASKS_PER_NODE=1(x)", "SLURM_PROCID=0"},
       "SLURM_STEP_TASKS_PER_NODE=1(x): bad repetition '(x)'"},
      {{"--base-port", "47000"},
       {"SLURM_STEP_NODELIST=n[1-2]", "SLURM_STEP_TASKS_PER_NODE=1(x2)", "SLURM_PROCID=0"},
       "node 2 has no addr and no task runs it (the topology has 3 nodes"},
      {{"--node", "0", "--base-port", "47000"},
       {"SLURM_STEP_NODELIST=n[1-3]", "SLURM_STEP_TASKS_PER_NODE=1(x3)", "SLURM_PROCID=1"},
       "--node 0, but this is the task of SLURM_PROCID=1, which runs node 1"},
      {{}, {"SLURM_PROCID=7"}, "SLURM_PROCID: rank 7 is not a node of"},
      {{"--base-port", "0"}, {}, "--base-port: Value 0 not in range 1 to 65535"},
  };
  for (const Case& c : cases) {
    RunResult r = agent(c.args, c.env);
    EXPECT_EQ(r.exit_code, 2) << c.message << ": " << r.errors;
    EXPECT_TRUE(Has(r.errors, c.message)) << r.errors;
  }
  // The TOML config mirrors the flag.
  const std::string config = dir() + "/run.toml";
  WriteFile(config, "base-port = 70000\n");
  RunResult r = agent({"--node", "0", "--config", config}, {});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "run.toml:1: --base-port: Value 70000 not in range")) << r.errors;
  WriteFile(config, "base-port = 47000\n");
  r = agent({"--node", "0", "--config", config}, {});
  EXPECT_EQ(r.exit_code, 2) << r.errors;
  EXPECT_TRUE(Has(r.errors, "no allocation in the environment")) << r.errors;
}

}  // namespace
}  // namespace grapevine::integration
