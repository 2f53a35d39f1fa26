#include "proto/framer.h"

#include <algorithm>
#include <cstdio>
#include <limits>
#include <string>

namespace grapevine::proto {
namespace {

uint16_t LoadLe16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

std::string Hex(uint32_t v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%0*x", width, v);
  return buf;
}

}  // namespace

std::array<uint8_t, kFrameHeaderBytes> EncodeFrameHeader(const FrameHeader& header) {
  std::array<uint8_t, kFrameHeaderBytes> out{};
  std::copy(kFrameMagic.begin(), kFrameMagic.end(), out.begin());
  out[4] = header.major;
  out[5] = header.minor;
  out[6] = static_cast<uint8_t>(header.flags);
  out[7] = static_cast<uint8_t>(header.flags >> 8);
  for (int i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(header.length >> (8 * i));
  return out;
}

Result<FrameHeader> DecodeFrameHeader(std::span<const uint8_t, kFrameHeaderBytes> bytes,
                                      uint32_t max_frame_bytes) {
  if (!std::equal(kFrameMagic.begin(), kFrameMagic.end(), bytes.begin())) {
    return Status::Invalid("bad frame magic " + Hex(LoadLe32(bytes.data()), 8) +
                           " (not a grapevine peer?)");
  }
  FrameHeader h;
  h.major = bytes[4];
  h.minor = bytes[5];
  h.flags = LoadLe16(bytes.data() + 6);
  h.length = LoadLe32(bytes.data() + 8);
  if (h.major != kProtocolMajor) {
    return Status::Invalid("peer speaks protocol version " + std::to_string(h.major) + "." +
                           std::to_string(h.minor) + ", we speak " +
                           std::to_string(kProtocolMajor) + "." + std::to_string(kProtocolMinor));
  }
  if ((h.flags & ~kKnownFrameFlags) != 0) {
    return Status::Invalid("unknown frame flags " + Hex(h.flags, 4));
  }
  if (h.length > max_frame_bytes) {
    return Status::Invalid("frame of " + std::to_string(h.length) + " bytes exceeds the limit of " +
                           std::to_string(max_frame_bytes) + " bytes (--max-frame-bytes)");
  }
  return h;
}

// ---- FrameDecoder -------------------------------------------------------------------

FrameDecoder::FrameDecoder(uint32_t max_frame_bytes, PayloadPool* pool)
    : max_frame_bytes_(max_frame_bytes), pool_(pool) {}

void FrameDecoder::set_max_frame_bytes(uint32_t max_frame_bytes) {
  GV_CHECK_MSG(buffered_bytes() == 0, "frame limit changed inside a frame");
  max_frame_bytes_ = max_frame_bytes;
}

void FrameDecoder::set_opener(FrameOpener* opener) {
  GV_CHECK_MSG(buffered_bytes() == 0, "frame opener changed inside a frame");
  opener_ = opener;
}

size_t FrameDecoder::buffered_bytes() const {
  switch (stage_) {
    case Stage::kHeader:
      return header_fill_;
    case Stage::kPayload:
      return kFrameHeaderBytes + payload_fill_;
    case Stage::kTrailer:
      return kFrameHeaderBytes + current_.payload.size() + trailer_fill_;
  }
  return 0;
}

std::span<uint8_t> FrameDecoder::Prepare(size_t max_bytes) {
  if (!error_.ok()) return {};
  switch (stage_) {
    case Stage::kHeader:
      return std::span<uint8_t>(header_bytes_)
          .subspan(header_fill_, std::min(max_bytes, kFrameHeaderBytes - header_fill_));
    case Stage::kPayload:
      return current_.payload.subspan(
          payload_fill_, std::min(max_bytes, current_.payload.size() - payload_fill_));
    case Stage::kTrailer:
      return std::span<uint8_t>(trailer_).subspan(
          trailer_fill_, std::min(max_bytes, trailer_.size() - trailer_fill_));
  }
  return {};
}

Status FrameDecoder::Commit(size_t n) {
  if (!error_.ok() || n == 0) return error_;
  switch (stage_) {
    case Stage::kHeader:
      GV_CHECK(n <= kFrameHeaderBytes - header_fill_);
      header_fill_ += n;
      if (header_fill_ == kFrameHeaderBytes) return StartFrame();
      break;
    case Stage::kPayload:
      GV_CHECK(n <= current_.payload.size() - payload_fill_);
      if (opener_ != nullptr) opener_->OpenBytes(current_.payload.subspan(payload_fill_, n));
      payload_fill_ += n;
      if (payload_fill_ == current_.payload.size()) {
        if (trailer_.empty()) return FinishFrame();
        stage_ = Stage::kTrailer;
      }
      break;
    case Stage::kTrailer:
      GV_CHECK(n <= trailer_.size() - trailer_fill_);
      trailer_fill_ += n;
      if (trailer_fill_ == trailer_.size()) return FinishFrame();
      break;
  }
  return error_;
}

Status FrameDecoder::Feed(std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    std::span<uint8_t> space = Prepare(bytes.size());
    if (space.empty()) break;  // poisoned
    std::copy_n(bytes.begin(), space.size(), space.begin());
    bytes = bytes.subspan(space.size());
    if (Status st = Commit(space.size()); !st.ok()) return st;
  }
  return error_;
}

Status FrameDecoder::StartFrame() {
  // Nothing is allocated before this check.
  Result<FrameHeader> header = DecodeFrameHeader(header_bytes_, max_frame_bytes_);
  if (!header.ok()) return Poison(header.status());
  if (opener_ != nullptr) {
    if ((header->flags & opener_->flags()) != opener_->flags()) {
      return Poison(Status::AuthFailed("frame without MAC on an authenticated connection"));
    }
  } else if ((header->flags & kFlagMac) != 0) {
    return Poison(
        Status::Invalid("frame carries a MAC but no key was agreed on this connection"));
  }
  header_fill_ = 0;
  payload_fill_ = 0;
  trailer_fill_ = 0;
  trailer_.assign(opener_ != nullptr ? opener_->trailer_bytes() : 0, 0);
  current_ = Frame{};
  current_.header = *header;
  const size_t length = header->length;
  if (length > 0) {
    // Uninitialised: pages are committed only as the payload's bytes arrive, so a
    // header announcing the limit and followed by nothing costs no memory.
    current_.storage = pool_ != nullptr && length >= kPooledFrameBytes
                           ? pool_->Acquire(length)
                           : std::shared_ptr<uint8_t>(new uint8_t[length],
                                                      std::default_delete<uint8_t[]>());
    current_.payload = std::span<uint8_t>(current_.storage.get(), length);
  }
  if (opener_ != nullptr) opener_->BeginOpen(header_bytes_);
  stage_ = Stage::kPayload;
  if (length == 0) {
    if (trailer_.empty()) return FinishFrame();
    stage_ = Stage::kTrailer;
  }
  return error_;
}

Status FrameDecoder::FinishFrame() {
  if (opener_ != nullptr) {
    if (Status st = opener_->FinishOpen(trailer_); !st.ok()) return Poison(std::move(st));
  }
  ready_.push_back(std::move(current_));
  current_ = Frame{};
  stage_ = Stage::kHeader;
  payload_fill_ = 0;
  trailer_fill_ = 0;
  return error_;
}

Status FrameDecoder::Poison(Status why) {
  error_ = std::move(why);
  current_ = Frame{};  // a half-received frame is never delivered; free its memory
  return error_;
}

Status FrameDecoder::Finish() const {
  if (!error_.ok()) return error_;
  switch (stage_) {
    case Stage::kHeader:
      if (header_fill_ == 0) return Status::Ok();
      return Status::Invalid("connection closed inside a frame header (" +
                             std::to_string(header_fill_) + " of " +
                             std::to_string(kFrameHeaderBytes) + " bytes)");
    case Stage::kPayload:
      return Status::Invalid("connection closed after " + std::to_string(payload_fill_) + " of " +
                             std::to_string(current_.payload.size()) + " payload bytes");
    case Stage::kTrailer:
      return Status::Invalid("connection closed inside a frame MAC (" +
                             std::to_string(trailer_fill_) + " of " +
                             std::to_string(trailer_.size()) + " bytes)");
  }
  return Status::Ok();
}

std::optional<Frame> FrameDecoder::Next() {
  if (ready_.empty()) return std::nullopt;
  Frame f = std::move(ready_.front());
  ready_.pop_front();
  return f;
}

// ---- FrameEncoder -------------------------------------------------------------------

FrameEncoder::FrameEncoder(size_t seal_chunk_bytes) : seal_chunk_bytes_(seal_chunk_bytes) {
  GV_CHECK(seal_chunk_bytes_ > 0);
}

void FrameEncoder::set_sealer(FrameSealer* sealer) {
  GV_CHECK_MSG(done_, "frame sealer changed inside a frame");
  sealer_ = sealer;
}

void FrameEncoder::Begin(std::vector<std::span<const uint8_t>> payload) {
  size_t length = 0;
  for (auto piece : payload) length += piece.size();
  GV_CHECK_MSG(length <= std::numeric_limits<uint32_t>::max(), "message too large for one frame");
  FrameHeader h;
  h.flags = sealer_ != nullptr ? sealer_->flags() : 0;
  h.length = static_cast<uint32_t>(length);
  header_ = EncodeFrameHeader(h);
  pieces_ = std::move(payload);
  piece_ = 0;
  piece_offset_ = 0;
  header_sent_ = false;
  done_ = false;
  trailer_.assign(sealer_ != nullptr ? sealer_->trailer_bytes() : 0, 0);
  frame_bytes_ = kFrameHeaderBytes + length + trailer_.size();
  if (sealer_ != nullptr) sealer_->BeginSeal(header_);
}

const std::vector<std::span<const uint8_t>>& FrameEncoder::NextBatch() {
  batch_.clear();
  if (done_) return batch_;
  if (!header_sent_) {
    batch_.emplace_back(header_);
    header_sent_ = true;
  }
  size_t budget = sealer_ != nullptr ? seal_chunk_bytes_ : std::numeric_limits<size_t>::max();
  while (piece_ < pieces_.size() && budget > 0) {
    std::span<const uint8_t> part = pieces_[piece_].subspan(piece_offset_);
    part = part.first(std::min(part.size(), budget));
    if (!part.empty()) {
      if (sealer_ != nullptr) {
        std::span<const uint8_t> wire = sealer_->SealBytes(part);
        GV_CHECK_MSG(wire.size() == part.size(), "a frame stage changed the payload length");
        part = wire;
      }
      batch_.push_back(part);
    }
    budget -= part.size();
    piece_offset_ += part.size();
    if (piece_offset_ == pieces_[piece_].size()) {
      ++piece_;
      piece_offset_ = 0;
    }
  }
  if (piece_ == pieces_.size()) {
    if (sealer_ != nullptr) {
      sealer_->FinishSeal(trailer_);
      batch_.emplace_back(trailer_);
    }
    done_ = true;
  }
  return batch_;
}

}  // namespace grapevine::proto
