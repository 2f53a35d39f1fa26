// The checkpoint format and store (agent/core/checkpoint.h): round trip, rejection of
// every truncation and of flipped bytes, fallback to the previous file, and a crash
// injected after every file-system step of a write never leaving the newest readable
// checkpoint unreadable. Files live in a fresh temporary directory; no sleeps.
#include "agent/core/checkpoint.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <zlib.h>

#include <filesystem>
#include <random>
#include <fstream>

namespace grapevine::agent::core {
namespace {

namespace fs = std::filesystem;

Checkpoint Sample(uint64_t round) {
  Checkpoint c;
  c.node = 2;
  c.incarnation = 3;
  c.round = round;
  c.step = static_cast<int64_t>(round) * 100 + 7;
  c.algo = "dimat";
  c.fingerprint = 0x1234abcdULL;
  c.next_round = round + 1;
  for (int i = 0; i < 40; ++i) c.trainer.push_back(static_cast<uint8_t>(i * 7 + round));
  c.members = {{0, "127.0.0.1:4000", proto::MemberState::kAlive, 0},
               {2, "127.0.0.1:4002", proto::MemberState::kDead, 5}};
  c.algorithm = {1, 2, 3};
  c.shard_index = 2;
  c.shard_count = 5;
  c.end_round = round + 10;
  return c;
}

class TempDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/gv_ckpt_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST(CheckpointFormat, RoundTrip) {
  const Checkpoint c = Sample(12);
  auto bytes = EncodeCheckpoint(c);
  ASSERT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "GVCK");
  auto back = DecodeCheckpoint(bytes);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(*back, c);
}

TEST(CheckpointFormat, EveryTruncationIsRejectedWithAReason) {
  const auto bytes = EncodeCheckpoint(Sample(3));
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = DecodeCheckpoint(std::span(bytes).first(len));
    ASSERT_FALSE(r.ok()) << "accepted a file cut at byte " << len;
    EXPECT_FALSE(r.status().message().empty());
  }
}

TEST(CheckpointFormat, EveryFlippedByteIsRejected) {
  const auto good = EncodeCheckpoint(Sample(3));
  for (size_t at = 0; at < good.size(); ++at) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      auto bad = good;
      bad[at] ^= mask;
      auto r = DecodeCheckpoint(bad);
      ASSERT_FALSE(r.ok()) << "accepted byte " << at << " ^ " << int(mask);
    }
  }
  auto longer = good;
  longer.push_back(0);
  EXPECT_FALSE(DecodeCheckpoint(longer).ok());
}

TEST(CheckpointFormat, MessagesNameTheProblem) {
  auto bytes = EncodeCheckpoint(Sample(1));
  auto bad_magic = bytes;
  bad_magic[0] = 'X';
  EXPECT_NE(DecodeCheckpoint(bad_magic).status().message().find("magic"), std::string::npos);
  auto bad_version = bytes;
  bad_version[4] = 9;
  EXPECT_NE(DecodeCheckpoint(bad_version).status().message().find("version"), std::string::npos);
  auto bad_crc = bytes;
  bad_crc[20] ^= 1;
  EXPECT_NE(DecodeCheckpoint(bad_crc).status().message().find("checksum"), std::string::npos);
  EXPECT_NE(DecodeCheckpoint(std::span(bytes).first(bytes.size() - 9)).status().message().find(
                "truncated"),
            std::string::npos);
}

// The checksum catches every accidental change; this reaches past it to the payload
// reader: random mutations of a valid payload, re-sealed with a correct length and CRC,
// must be read or refused with a reason — never crash, hang or allocate what the file
// does not hold.
std::vector<uint8_t> Seal(const std::vector<uint8_t>& payload,
                          uint32_t version = kCheckpointVersion) {
  std::vector<uint8_t> out(kCheckpointMagic, kCheckpointMagic + 4);
  auto put = [&](uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  put(version, 4);
  put(payload.size(), 8);
  out.insert(out.end(), payload.begin(), payload.end());
  put(crc32(crc32(0L, Z_NULL, 0), out.data(), static_cast<uInt>(out.size())), 4);
  return out;
}

// A version-1 file (no shard, no end round) is still read: the fields stay "not
// recorded". A version-2 payload with an impossible shard or end round is refused.
TEST(CheckpointFormat, VersionOneIsReadAndBadVersionTwoFieldsAreRefused) {
  const auto v2 = EncodeCheckpoint(Sample(4));
  std::vector<uint8_t> payload(v2.begin() + kCheckpointHeaderBytes,
                               v2.end() - kCheckpointTrailerBytes - 16);  // drop the v2 tail
  auto old = DecodeCheckpoint(Seal(payload, 1));
  ASSERT_TRUE(old.ok()) << old.status().message();
  EXPECT_EQ(old->shard_index, -1);
  EXPECT_EQ(old->end_round, 0u);
  EXPECT_EQ(old->trainer, Sample(4).trainer);

  Checkpoint bad_shard = Sample(4);
  bad_shard.shard_index = 5;  // of 5
  EXPECT_NE(DecodeCheckpoint(EncodeCheckpoint(bad_shard)).status().message().find("shard 5 of 5"),
            std::string::npos);
  Checkpoint bad_end = Sample(4);
  bad_end.end_round = 4;
  EXPECT_NE(DecodeCheckpoint(EncodeCheckpoint(bad_end)).status().message().find("end round 4"),
            std::string::npos);
}

TEST(CheckpointFormat, FuzzedPayloadsWithValidChecksumsAreReadOrRefused) {
  const auto good = EncodeCheckpoint(Sample(7));
  const std::vector<uint8_t> payload(good.begin() + kCheckpointHeaderBytes,
                                     good.end() - kCheckpointTrailerBytes);
  ASSERT_EQ(Seal(payload), good);  // the re-sealing matches the writer
  std::mt19937 rng(12345);
  int refused = 0;
  for (int iter = 0; iter < 5000; ++iter) {
    auto p = payload;
    const int edits = 1 + static_cast<int>(rng() % 6);
    for (int e = 0; e < edits; ++e) {
      const size_t at = p.empty() ? 0 : rng() % p.size();
      switch (rng() % 5) {
        case 0: if (!p.empty()) p[at] ^= static_cast<uint8_t>(1u << (rng() % 8)); break;
        case 1: if (!p.empty()) p[at] = static_cast<uint8_t>(rng()); break;
        case 2: if (!p.empty()) p.erase(p.begin() + static_cast<long>(at)); break;
        case 3: p.insert(p.begin() + static_cast<long>(at), static_cast<uint8_t>(rng())); break;
        case 4:  // a length-like field made huge
          for (size_t k = at; k < std::min(p.size(), at + 4); ++k) p[k] = 0xff;
          break;
      }
    }
    auto r = DecodeCheckpoint(Seal(p));
    if (!r.ok()) {
      ++refused;
      EXPECT_FALSE(r.status().message().empty());
    }
  }
  EXPECT_GT(refused, 2500);  // most mutations break the structure
}

TEST(CheckpointFormat, FileNames) {
  EXPECT_EQ(CheckpointFileName(12), "ckpt-0000000012.gvck");
  EXPECT_EQ(CheckpointRoundOf("ckpt-0000000012.gvck"), 12u);
  EXPECT_EQ(CheckpointRoundOf("ckpt-0000000012.gvck.tmp"), std::nullopt);
  EXPECT_EQ(CheckpointRoundOf("ckpt-.gvck"), std::nullopt);
  EXPECT_EQ(CheckpointRoundOf("ckpt-12a.gvck"), std::nullopt);
}

using CheckpointStoreTest = TempDir;

TEST_F(CheckpointStoreTest, KeepsTheNewestTwoAndLoadsTheNewest) {
  CheckpointStore store(dir_ + "/a/b");
  ASSERT_TRUE(store.Open().ok());
  for (uint64_t r : {1, 3, 5, 7}) ASSERT_TRUE(store.Write(Sample(r)).ok());
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_ + "/a/b")) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"ckpt-0000000005.gvck", "ckpt-0000000007.gvck"}));
  auto loaded = store.LoadNewest();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->checkpoint.has_value());
  EXPECT_EQ(*loaded->checkpoint, Sample(7));
  EXPECT_TRUE(loaded->skipped.empty());
}

TEST_F(CheckpointStoreTest, CorruptNewestFallsBackToThePreviousAndNamesIt) {
  CheckpointStore store(dir_);
  ASSERT_TRUE(store.Open().ok());
  ASSERT_TRUE(store.Write(Sample(4)).ok());
  ASSERT_TRUE(store.Write(Sample(6)).ok());
  const std::string newest = dir_ + "/" + CheckpointFileName(6);
  fs::resize_file(newest, fs::file_size(newest) / 2);
  auto loaded = store.LoadNewest();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->checkpoint.has_value());
  EXPECT_EQ(loaded->checkpoint->round, 4u);
  ASSERT_EQ(loaded->skipped.size(), 1u);
  EXPECT_NE(loaded->skipped[0].find(newest), std::string::npos);
  EXPECT_NE(loaded->skipped[0].find("truncated"), std::string::npos);

  const std::string older = dir_ + "/" + CheckpointFileName(4);
  { std::ofstream(older, std::ios::binary | std::ios::trunc) << "garbage"; }
  loaded = store.LoadNewest();
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->checkpoint.has_value());
  EXPECT_EQ(loaded->skipped.size(), 2u);
}

TEST_F(CheckpointStoreTest, EmptyDirectoryIsAFreshStart) {
  CheckpointStore store(dir_);
  ASSERT_TRUE(store.Open().ok());
  auto loaded = store.LoadNewest();
  ASSERT_TRUE(loaded.ok());
  EXPECT_FALSE(loaded->checkpoint.has_value());
}

TEST_F(CheckpointStoreTest, UnusableDirectoryIsBadInput) {
  const std::string file = dir_ + "/plain";
  { std::ofstream(file) << "x"; }
  CheckpointStore store(file);
  Status st = store.Open();
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.code(), StatusCode::kInvalidInput);
  EXPECT_NE(st.message().find(file), std::string::npos);
}

// Passes calls to the real file system until the `crash_at`-th mutating call, which
// "crashes": a WriteFile writes only a prefix of its data, any call fails, and every
// call after it fails too (the process is gone).
class CrashingOps final : public FileOps {
 public:
  explicit CrashingOps(int crash_at, size_t partial_bytes)
      : crash_at_(crash_at), partial_(partial_bytes) {}
  Status WriteFile(const std::string& path, std::span<const uint8_t> data) override {
    if (Crash()) {
      (void)real_.WriteFile(path, data.first(std::min(partial_, data.size())));
      return Status::IoError("crashed");
    }
    return real_.WriteFile(path, data);
  }
  Status SyncFile(const std::string& p) override { return Crash() ? Dead() : real_.SyncFile(p); }
  Status Rename(const std::string& a, const std::string& b) override {
    return Crash() ? Dead() : real_.Rename(a, b);
  }
  Status SyncDir(const std::string& d) override { return Crash() ? Dead() : real_.SyncDir(d); }
  Status RemoveFile(const std::string& p) override {
    return Crash() ? Dead() : real_.RemoveFile(p);
  }
  Result<std::vector<uint8_t>> ReadFile(const std::string& p) override {
    return crashed_ ? Result<std::vector<uint8_t>>(Dead()) : real_.ReadFile(p);
  }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return crashed_ ? Result<std::vector<std::string>>(Dead()) : real_.ListDir(d);
  }
  Status MakeDir(const std::string& d) override { return real_.MakeDir(d); }
  bool crashed() const { return crashed_; }
  int calls() const { return calls_; }

 private:
  bool Crash() {
    if (crashed_) return true;
    if (++calls_ == crash_at_) crashed_ = true;
    return crashed_;
  }
  static Status Dead() { return Status::IoError("crashed"); }
  FileOps& real_ = PosixFileOps();
  int crash_at_;
  size_t partial_;
  bool crashed_ = false;
  int calls_ = 0;
};

TEST_F(CheckpointStoreTest, CrashAtEveryWriteStepLeavesAReadableNewest) {
  // Mutating calls of one Write after two earlier checkpoints: WriteFile (temp), SyncFile,
  // Rename, SyncDir, then Prune's RemoveFile. Crash at each of them, with the temp file
  // cut at several lengths.
  for (int crash_at = 1; crash_at <= 6; ++crash_at) {
    for (size_t partial : {size_t{0}, size_t{5}, size_t{17}, size_t{60}, size_t{100000}}) {
      const std::string d = dir_ + "/c" + std::to_string(crash_at) + "_" + std::to_string(partial);
      {
        CheckpointStore setup(d);
        ASSERT_TRUE(setup.Open().ok());
        ASSERT_TRUE(setup.Write(Sample(2)).ok());
        ASSERT_TRUE(setup.Write(Sample(4)).ok());
      }
      CrashingOps ops(crash_at, partial);
      CheckpointStore crashing(d, ops);
      const Status wrote = crashing.Write(Sample(6));
      // Pruning is best effort: a crash there (call 5) leaves a complete write.
      EXPECT_EQ(wrote.ok(), crash_at >= 5) << "crash at call " << crash_at;

      CheckpointStore after(d);  // the restarted agent
      auto loaded = after.LoadNewest();
      ASSERT_TRUE(loaded.ok());
      ASSERT_TRUE(loaded->checkpoint.has_value()) << "crash at call " << crash_at;
      const uint64_t round = loaded->checkpoint->round;
      // Before the rename the new file does not exist yet; from the rename on it is whole.
      EXPECT_EQ(round, crash_at <= 3 ? 4u : 6u) << "crash at call " << crash_at;
      EXPECT_EQ(*loaded->checkpoint, Sample(round));
      EXPECT_TRUE(loaded->skipped.empty());
      // A later write after the restart succeeds and cleans up.
      ASSERT_TRUE(after.Write(Sample(8)).ok());
    }
  }
}

}  // namespace
}  // namespace grapevine::agent::core
