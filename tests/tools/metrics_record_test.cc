// The metrics line (agent/metrics_record.h): what the agent writes reads back equal, the
// on-disk keys stay those of older run folders, and malformed lines are named file:line.
#include "agent/metrics_record.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace grapevine::agent {
namespace {

MetricsRecord Full() {
  MetricsRecord r;
  r.round = 7;
  r.t = 1.25;
  r.node = 3;
  r.step = 350;
  r.loss = 0.41;
  r.test_accuracy = 0.83;
  r.bytes_in = 1000;
  r.bytes_out = 2000;
  r.models_received = 9;
  r.models_merged = 8;
  r.models_rejected = 1;
  r.models_stale = 2;
  r.models_superseded = 3;
  r.neighbours_alive = 2;
  r.wait_seconds = 0.03;
  r.frame = 4;
  r.gradients_answered = 5;
  r.push_weight = 0.75;
  r.resumed_from = 9;
  return r;
}

TEST(MetricsRecordTest, RoundTripsEveryField) {
  const MetricsRecord r = Full();
  auto back = ParseMetricsLine(ToJsonLine(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(MetricsRecordTest, KeysAreThoseOfOlderRunFolders) {
  const auto j = nlohmann::json::parse(ToJsonLine(Full()));
  for (const char* key :
       {"t", "node", "round", "step", "loss", "test_accuracy", "bytes_in", "bytes_out",
        "models_received", "models_merged", "models_rejected", "models_stale",
        "models_superseded", "neighbours_alive", "wait_seconds", "frame",
        "gradients_answered", "push_weight", "resumed_from"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j.size(), 19u) << j.dump();
  // Optional fields that are not set are not written (no test_accuracy off eval rounds).
  MetricsRecord bare;
  bare.round = 2;
  EXPECT_EQ(ToJsonLine(bare), R"({"round":2})");
}

// A plug-in's Metrics() reach the record by field name (agent/node_training.cc).
TEST(MetricsRecordTest, SetsAFieldByName) {
  MetricsRecord r;
  EXPECT_TRUE(SetMetricsField(r, "push_weight", 1.25));
  EXPECT_EQ(r.push_weight, 1.25);
  EXPECT_TRUE(SetMetricsField(r, "frame", 3));
  EXPECT_EQ(r.frame, 3u);
  EXPECT_FALSE(SetMetricsField(r, "frame", 2.5));  // not a whole number
  EXPECT_FALSE(SetMetricsField(r, "frame", -1));   // out of range
  EXPECT_EQ(r.frame, 3u);
  EXPECT_FALSE(SetMetricsField(r, "no_such_field", 1));
}

TEST(MetricsRecordTest, ReadsALineOfAnOlderAgent) {
  // A line as written before models_stale, wait_seconds and frame existed.
  auto r = ParseMetricsLine(
      R"({"t":0.5,"node":1,"round":0,"step":50,"loss":0.9,"bytes_in":10,"bytes_out":20,)"
      R"("models_received":0,"models_merged":0,"models_rejected":0,"neighbours_alive":2,)"
      R"("some_future_key":"ignored"})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->round, 0);
  EXPECT_EQ(r->bytes_out, 20u);
  EXPECT_FALSE(r->models_stale.has_value());
  EXPECT_FALSE(r->test_accuracy.has_value());
}

TEST(MetricsRecordTest, WrongTypesAreMalformed) {
  struct Case {
    const char* line;
    const char* message;
  };
  for (const Case& c : {Case{R"({"round":"x"})", "'round' is \"x\", not an integer"},
                        Case{R"({"step":5})", "'round' is missing"},
                        Case{R"({"round":1,"test_accuracy":"high"})",
                             "'test_accuracy' is \"high\", not a number"},
                        Case{R"({"round":1,"bytes_out":-5})", "'bytes_out' is -5, negative"},
                        Case{R"({"round":1,"node":1e20})", "'node' is 1e+20, not an integer"},
                        Case{R"({"round":-1})", "'round' is -1, negative"},
                        Case{"[1,2]", "not a JSON object"},
                        Case{R"({"round": 4, "trunc)", "not JSON"}}) {
    auto r = ParseMetricsLine(c.line);
    ASSERT_FALSE(r.ok()) << c.line;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos)
        << c.line << " -> " << r.status().message();
  }
}

TEST(MetricsRecordTest, FileReaderNamesFileAndLine) {
  const std::string path = std::filesystem::temp_directory_path() /
                           ("metrics_record_test_" + std::to_string(getpid()) + ".jsonl");
  {
    std::ofstream out(path);
    out << ToJsonLine(Full()) << "\n\n"
        << R"({"round":"x"})" << "\n"
        << ToJsonLine(Full()) << "\n"
        << R"({"round": 9, "tru)";
  }
  auto f = ReadMetricsFile(path);
  std::filesystem::remove(path);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->records.size(), 2u);
  ASSERT_EQ(f->errors.size(), 2u);
  EXPECT_EQ(f->errors[0].rfind(path + ":3: 'round'", 0), 0u) << f->errors[0];
  EXPECT_EQ(f->errors[1].rfind(path + ":5: not JSON", 0), 0u) << f->errors[1];
  EXPECT_FALSE(ReadMetricsFile(path).ok());  // gone
}

}  // namespace
}  // namespace grapevine::agent
