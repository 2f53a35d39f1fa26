// Checkpoints of one agent (issue 16, docs/checkpoints.md): the file format, its one
// reader and writer, and the store of a --checkpoint-dir.
//
// A file is   "GVCK" | u32 format version | u64 payload length | payload | u32 CRC-32
// (all little-endian; the CRC is zlib's CRC-32 over every byte before it). The payload is
// the fields of Checkpoint in declaration order (docs/checkpoints.md has every byte).
// DecodeCheckpoint is the only reader: it rejects a wrong magic, an unknown version, a
// length that disagrees with the file size, a bad checksum and a malformed payload, each
// with a message saying which, before using any field.
//
// CheckpointStore writes DIR/ckpt-<round>.gvck atomically — temp file, fsync, rename,
// fsync of DIR — and then deletes all but the newest `keep` (2: the previous one stays
// until a newer one is durable). LoadNewest takes the newest file that decodes and names
// every newer one it had to skip. All file access goes through FileOps, so tests inject
// a crash after any step.
//
// Thread-safety: Checkpoint is a value; a CheckpointStore is used by one thread (the
// agent's training thread).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "agent/core/file_ops.h"
#include "base/status.h"
#include "proto/messages.h"

namespace grapevine::agent::core {

inline constexpr char kCheckpointMagic[4] = {'G', 'V', 'C', 'K'};
// 2 added the data shard and the run's end round (a joiner's shard and horizon are
// not in any file); version 1 files are still read.
inline constexpr uint32_t kCheckpointVersion = 2;
inline constexpr size_t kCheckpointHeaderBytes = 16;  // magic, version, payload length
inline constexpr size_t kCheckpointTrailerBytes = 4;  // CRC-32

struct Checkpoint {
  proto::NodeId node = proto::kNoNode;  // the agent's id when it was written
  uint64_t incarnation = 0;             // its SWIM incarnation then; resume uses a higher one
  uint64_t round = 0;                   // the last completed round
  int64_t step = 0;                     // optimizer steps so far
  std::string algo;                     // --algo it was written by
  uint64_t fingerprint = 0;             // model architecture fingerprint
  uint64_t next_round = 0;              // the sample schedule's position: next round to plan
  std::vector<uint8_t> trainer;         // learn::Trainer::SaveState (params, optimizer, order, RNG)
  std::vector<proto::MemberRecord> members;  // the last membership view
  std::vector<uint8_t> algorithm;       // Algorithm::SaveState (opaque, may be empty)
  int32_t shard_index = -1;             // the data shard trained on (-1: not recorded, v1)
  int32_t shard_count = 0;              //   ... of this many
  uint64_t end_round = 0;               // the run ends before this round (0: not recorded, v1)

  bool operator==(const Checkpoint&) const = default;
};

std::vector<uint8_t> EncodeCheckpoint(const Checkpoint& c);
// Invalid with the reason (bad magic, version, length, checksum, malformed field).
Result<Checkpoint> DecodeCheckpoint(std::span<const uint8_t> bytes);

// "ckpt-0000000012.gvck" for round 12; nullopt for a name that is not one.
std::string CheckpointFileName(uint64_t round);
std::optional<uint64_t> CheckpointRoundOf(const std::string& name);

class CheckpointStore {
 public:
  // REQUIRES: `ops` outlives the store; keep >= 1.
  explicit CheckpointStore(std::string dir, FileOps& ops = PosixFileOps(), int keep = 2);

  // Creates the directory when missing. Invalid naming it when it cannot be created,
  // read or written (the agent exits 2).
  Status Open();
  // Writes `c` as the file of c.round (replacing one of the same round), then prunes.
  // On error the previous checkpoints are untouched (a stray temp file at most).
  Status Write(const Checkpoint& c);

  struct Loaded {
    std::optional<Checkpoint> checkpoint;  // none: no valid checkpoint (fresh start)
    std::string path;                      // the file it came from
    std::vector<std::string> skipped;      // "PATH: reason" for each newer file rejected
  };
  // The newest valid checkpoint. Errors only when the directory cannot be listed.
  Result<Loaded> LoadNewest();

  const std::string& dir() const { return dir_; }

 private:
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Prune();

  std::string dir_;
  FileOps& ops_;
  int keep_;
};

}  // namespace grapevine::agent::core
