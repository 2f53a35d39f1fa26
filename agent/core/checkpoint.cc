#include "agent/core/checkpoint.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "base/bytes.h"

namespace grapevine::agent::core {
namespace {

constexpr char kPrefix[] = "ckpt-";
constexpr char kSuffix[] = ".gvck";
constexpr char kTempSuffix[] = ".tmp";

uint32_t Crc32(std::span<const uint8_t> bytes) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large buffers in pieces.
  size_t done = 0;
  while (done < bytes.size()) {
    const size_t n = std::min<size_t>(bytes.size() - done, 1u << 30);
    crc = crc32(crc, bytes.data() + done, static_cast<uInt>(n));
    done += n;
  }
  return static_cast<uint32_t>(crc);
}

void EncodePayload(const Checkpoint& c, ByteWriter& w) {
  w.U32(c.node);
  w.U64(c.incarnation);
  w.U64(c.round);
  w.I64(c.step);
  w.String(c.algo);
  w.U64(c.fingerprint);
  w.U64(c.next_round);
  w.Bytes(c.trainer);
  w.U64(c.members.size());
  for (const auto& m : c.members) {
    w.U32(m.id);
    w.String(m.addr);
    w.U8(static_cast<uint8_t>(m.state));
    w.U64(m.incarnation);
  }
  w.Bytes(c.algorithm);
  w.U32(static_cast<uint32_t>(c.shard_index));  // version 2
  w.U32(static_cast<uint32_t>(c.shard_count));
  w.U64(c.end_round);
}

}  // namespace

std::vector<uint8_t> EncodeCheckpoint(const Checkpoint& c) {
  ByteWriter payload;
  EncodePayload(c, payload);
  ByteWriter w;
  w.Raw(kCheckpointMagic, sizeof kCheckpointMagic);
  w.U32(kCheckpointVersion);
  w.U64(payload.bytes().size());
  w.Raw(payload.bytes().data(), payload.bytes().size());
  w.U32(Crc32(w.bytes()));
  return w.Take();
}

Result<Checkpoint> DecodeCheckpoint(std::span<const uint8_t> bytes) {
  if (bytes.size() < kCheckpointHeaderBytes + kCheckpointTrailerBytes) {
    return Status::Invalid("truncated: " + std::to_string(bytes.size()) +
                           " bytes, shorter than header and checksum");
  }
  if (std::memcmp(bytes.data(), kCheckpointMagic, sizeof kCheckpointMagic) != 0) {
    return Status::Invalid("not a grapevine checkpoint (magic is not GVCK)");
  }
  ByteReader header(bytes.subspan(4, 12));
  const uint32_t version = header.U32();
  const uint64_t length = header.U64();
  if (version != kCheckpointVersion && version != 1) {
    return Status::Invalid("format version " + std::to_string(version) + ", this build reads " +
                           std::to_string(kCheckpointVersion));
  }
  const uint64_t expected = kCheckpointHeaderBytes + kCheckpointTrailerBytes;
  if (length != bytes.size() - expected) {
    return Status::Invalid(bytes.size() - expected < length
                               ? "truncated: payload of " + std::to_string(length) +
                                     " bytes announced, " +
                                     std::to_string(bytes.size() - expected) + " present"
                               : "payload length " + std::to_string(length) +
                                     " does not match the file size " +
                                     std::to_string(bytes.size()));
  }
  const size_t body = kCheckpointHeaderBytes + length;
  ByteReader trailer(bytes.subspan(body));
  const uint32_t stored = trailer.U32();
  if (Crc32(bytes.first(body)) != stored) return Status::Invalid("checksum mismatch (corrupt)");

  ByteReader r(bytes.subspan(kCheckpointHeaderBytes, length));
  Checkpoint c;
  c.node = r.U32();
  c.incarnation = r.U64();
  c.round = r.U64();
  c.step = r.I64();
  c.algo = r.String();
  c.fingerprint = r.U64();
  c.next_round = r.U64();
  c.trainer = r.Bytes();
  const uint64_t members = r.U64();
  if (members > r.left() / 21) r.Invalidate();  // each record takes at least 21 bytes
  for (uint64_t k = 0; r.ok() && k < members; ++k) {
    proto::MemberRecord m;
    m.id = r.U32();
    m.addr = r.String();
    const uint8_t state = r.U8();
    if (state > static_cast<uint8_t>(proto::MemberState::kLeft)) r.Invalidate();
    m.state = static_cast<proto::MemberState>(state);
    m.incarnation = r.U64();
    c.members.push_back(std::move(m));
  }
  c.algorithm = r.Bytes();
  if (version >= 2) {
    const uint32_t index = r.U32(), count = r.U32();
    c.end_round = r.U64();
    if (r.ok() && (index >= count || count > (1u << 30))) {
      return Status::Invalid("malformed payload (shard " + std::to_string(index) + " of " +
                             std::to_string(count) + ")");
    }
    c.shard_index = static_cast<int32_t>(index);
    c.shard_count = static_cast<int32_t>(count);
    if (r.ok() && c.end_round <= c.round) {
      return Status::Invalid("malformed payload (end round " + std::to_string(c.end_round) +
                             " not after round " + std::to_string(c.round) + ")");
    }
  }
  if (!r.done()) {
    return Status::Invalid("malformed payload (a field runs past its end at byte " +
                           std::to_string(kCheckpointHeaderBytes + r.position()) + ")");
  }
  if (c.next_round != c.round + 1) {
    return Status::Invalid("malformed payload (schedule position " +
                           std::to_string(c.next_round) + " after round " +
                           std::to_string(c.round) + ")");
  }
  return c;
}

std::string CheckpointFileName(uint64_t round) {
  char name[64];
  std::snprintf(name, sizeof name, "%s%010llu%s", kPrefix, static_cast<unsigned long long>(round),
                kSuffix);
  return name;
}

std::optional<uint64_t> CheckpointRoundOf(const std::string& name) {
  const size_t p = sizeof kPrefix - 1, s = sizeof kSuffix - 1;
  if (name.size() <= p + s || name.compare(0, p, kPrefix) != 0 ||
      name.compare(name.size() - s, s, kSuffix) != 0) {
    return std::nullopt;
  }
  const std::string digits = name.substr(p, name.size() - p - s);
  if (digits.size() > 19 || !std::all_of(digits.begin(), digits.end(),
                                         [](char ch) { return ch >= '0' && ch <= '9'; })) {
    return std::nullopt;
  }
  return std::stoull(digits);
}

CheckpointStore::CheckpointStore(std::string dir, FileOps& ops, int keep)
    : dir_(std::move(dir)), ops_(ops), keep_(std::max(1, keep)) {}

Status CheckpointStore::Open() {
  GV_RETURN_IF_ERROR(ops_.MakeDir(dir_).WithContext("--checkpoint-dir"));
  return ops_.ListDir(dir_).status().WithContext("--checkpoint-dir");
}

Status CheckpointStore::Write(const Checkpoint& c) {
  const std::string name = CheckpointFileName(c.round);
  const std::string temp = Path(name + kTempSuffix);
  GV_RETURN_IF_ERROR(ops_.WriteFile(temp, EncodeCheckpoint(c)));
  GV_RETURN_IF_ERROR(ops_.SyncFile(temp));
  GV_RETURN_IF_ERROR(ops_.Rename(temp, Path(name)));
  GV_RETURN_IF_ERROR(ops_.SyncDir(dir_));
  Prune();
  return Status::Ok();
}

void CheckpointStore::Prune() {
  auto names = ops_.ListDir(dir_);
  if (!names.ok()) return;
  std::vector<std::pair<uint64_t, std::string>> found;
  for (const auto& n : *names) {
    if (auto round = CheckpointRoundOf(n)) found.emplace_back(*round, n);
  }
  std::sort(found.rbegin(), found.rend());
  for (size_t k = static_cast<size_t>(keep_); k < found.size(); ++k) {
    (void)ops_.RemoveFile(Path(found[k].second));  // best effort: a stale file is harmless
  }
}

Result<CheckpointStore::Loaded> CheckpointStore::LoadNewest() {
  GV_ASSIGN_OR_RETURN(std::vector<std::string> names, ops_.ListDir(dir_));
  std::vector<std::pair<uint64_t, std::string>> found;
  for (const auto& n : names) {
    if (auto round = CheckpointRoundOf(n)) found.emplace_back(*round, n);
  }
  std::sort(found.rbegin(), found.rend());
  Loaded out;
  for (const auto& [round, name] : found) {
    const std::string path = Path(name);
    auto bytes = ops_.ReadFile(path);
    Result<Checkpoint> c = bytes.ok() ? DecodeCheckpoint(*bytes) : Result<Checkpoint>(bytes.status());
    if (c.ok() && c->round != round) {
      c = Status::Invalid("holds round " + std::to_string(c->round) + ", not the round its name says");
    }
    if (!c.ok()) {
      out.skipped.push_back(path + ": " + c.status().message());
      continue;
    }
    out.checkpoint = std::move(*c);
    out.path = path;
    break;
  }
  return out;
}

}  // namespace grapevine::agent::core
