#include "proto/envelope_frame.h"

#include <limits>

namespace grapevine::proto {

std::vector<std::span<const uint8_t>> OutgoingFrame::Pieces() const {
  std::vector<std::span<const uint8_t>> pieces;
  pieces.emplace_back(header);
  for (auto piece : message.Pieces()) pieces.push_back(piece);
  if (mac) pieces.emplace_back(*mac);
  return pieces;
}

size_t OutgoingFrame::size() const {
  return header.size() + message.size() + (mac ? mac->size() : 0);
}

std::vector<uint8_t> OutgoingFrame::Flatten() const {
  std::vector<uint8_t> out;
  out.reserve(size());
  for (auto piece : Pieces()) out.insert(out.end(), piece.begin(), piece.end());
  return out;
}

namespace {

OutgoingFrame Seal(EncodedMessage message, FrameAuthenticator* auth) {
  OutgoingFrame frame;
  frame.message = std::move(message);
  GV_CHECK_MSG(frame.message.size() <= std::numeric_limits<uint32_t>::max(),
               "message too large for one frame");
  FrameHeader h;
  h.flags = auth ? kFlagMac : 0;
  h.length = static_cast<uint32_t>(frame.message.size());
  frame.header = EncodeFrameHeader(h);
  if (auth) frame.mac = auth->Sign(frame.header, frame.message.Pieces());
  return frame;
}

}  // namespace

OutgoingFrame MakeFrame(const Envelope& envelope, FrameAuthenticator* auth) {
  return Seal(Encode(envelope), auth);
}

OutgoingFrame MakeFrame(Envelope&& envelope, FrameAuthenticator* auth) {
  return Seal(Encode(std::move(envelope)), auth);
}

Result<Envelope> OpenFrame(const Frame& frame, FrameAuthenticator* auth) {
  if (auth) {
    if (!frame.mac) return Status::AuthFailed("frame without MAC on an authenticated connection");
    std::array<uint8_t, kFrameHeaderBytes> header = EncodeFrameHeader(frame.header);
    if (!auth->Verify(header, frame.payload, *frame.mac)) {
      return Status::AuthFailed("frame MAC mismatch (wrong key, tampered or replayed frame)");
    }
  } else if (frame.mac) {
    return Status::Invalid("frame carries a MAC but no key was agreed on this connection");
  }
  return Decode(frame.payload);
}

}  // namespace grapevine::proto
