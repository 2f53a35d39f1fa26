#include "proto/framer.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace grapevine::proto {
namespace {

// Payload memory is not reserved all at once on the word of a header: a peer
// that announces 200 MiB and sends nothing costs us at most this much.
constexpr size_t kInitialPayloadReserve = size_t{1} << 20;

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

FrameDecoder::FrameDecoder(uint32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

size_t FrameDecoder::buffered_bytes() const {
  switch (stage_) {
    case Stage::kHeader:
      return header_fill_;
    case Stage::kPayload:
      return kFrameHeaderBytes + current_.payload.size();
    case Stage::kMac:
      return kFrameHeaderBytes + current_.payload.size() + mac_fill_;
  }
  return 0;
}

Status FrameDecoder::Feed(std::span<const uint8_t> bytes) {
  while (error_.ok() && !bytes.empty()) {
    size_t used = 0;
    switch (stage_) {
      case Stage::kHeader:
        used = FeedHeader(bytes);
        break;
      case Stage::kPayload:
        used = FeedPayload(bytes);
        break;
      case Stage::kMac:
        used = FeedMac(bytes);
        break;
    }
    bytes = bytes.subspan(used);
  }
  // A header that completes a zero-length frame without MAC finishes it at once,
  // so the loop above needs no trailing check.
  return error_;
}

size_t FrameDecoder::FeedHeader(std::span<const uint8_t> bytes) {
  size_t n = std::min(bytes.size(), kFrameHeaderBytes - header_fill_);
  std::copy_n(bytes.begin(), n, header_bytes_.begin() + header_fill_);
  header_fill_ += n;
  if (header_fill_ < kFrameHeaderBytes) return n;

  Result<FrameHeader> header = DecodeFrameHeader(header_bytes_, max_frame_bytes_);
  if (!header.ok()) {
    error_ = header.status();
    return n;
  }
  current_ = Frame{};
  current_.header = *header;
  current_.payload.reserve(std::min<size_t>(header->length, kInitialPayloadReserve));
  header_fill_ = 0;
  mac_fill_ = 0;
  stage_ = Stage::kPayload;
  if (header->length == 0) {
    if (header->flags & kFlagMac) {
      stage_ = Stage::kMac;
      current_.mac.emplace();
    } else {
      FinishFrame();
    }
  }
  return n;
}

size_t FrameDecoder::FeedPayload(std::span<const uint8_t> bytes) {
  std::vector<uint8_t>& payload = current_.payload;
  size_t want = current_.header.length - payload.size();
  size_t n = std::min(bytes.size(), want);
  if (payload.size() + n > payload.capacity()) {
    // The peer has sent a first MiB: take the announced length at its word now
    // (it is within our limit), so a big model costs one copy, not log2(n).
    payload.reserve(current_.header.length);
  }
  payload.insert(payload.end(), bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(n));
  if (payload.size() == current_.header.length) {
    if (current_.header.flags & kFlagMac) {
      stage_ = Stage::kMac;
      current_.mac.emplace();
    } else {
      FinishFrame();
    }
  }
  return n;
}

size_t FrameDecoder::FeedMac(std::span<const uint8_t> bytes) {
  size_t n = std::min(bytes.size(), kMacBytes - mac_fill_);
  std::copy_n(bytes.begin(), n, current_.mac->begin() + mac_fill_);
  mac_fill_ += n;
  if (mac_fill_ == kMacBytes) FinishFrame();
  return n;
}

void FrameDecoder::FinishFrame() {
  ready_.push_back(std::move(current_));
  current_ = Frame{};
  stage_ = Stage::kHeader;
  mac_fill_ = 0;
}

std::optional<Frame> FrameDecoder::Next() {
  if (ready_.empty()) return std::nullopt;
  Frame f = std::move(ready_.front());
  ready_.pop_front();
  return f;
}

}  // namespace grapevine::proto
