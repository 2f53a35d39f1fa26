// Envelope <-> frame in one call: encode + header + MAC on the way out, MAC check
// + decode on the way in. This is what agent/net sessions use; the pieces it
// combines (framer.h, codec.h, auth.h) stay usable on their own.
//
// Thread-safety: pure functions except for the FrameAuthenticator they are given,
// whose send (MakeFrame) or receive (OpenFrame) sequence number they advance.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <vector>

#include "base/status.h"
#include "proto/auth.h"
#include "proto/codec.h"
#include "proto/framer.h"
#include "proto/messages.h"

namespace grapevine::proto {

// A frame ready for one scatter-gather write: header, payload pieces, MAC.
struct OutgoingFrame {
  std::array<uint8_t, kFrameHeaderBytes> header{};
  EncodedMessage message;
  std::optional<FrameMac> mac;

  // header, then message.Pieces(), then the MAC if any. Valid while *this lives.
  std::vector<std::span<const uint8_t>> Pieces() const;
  size_t size() const;  // bytes on the wire
  std::vector<uint8_t> Flatten() const;
};

// Encodes `envelope`; with an authenticator, sets kFlagMac and signs the frame.
// REQUIRES: the encoded size fits in the u32 length field.
OutgoingFrame MakeFrame(const Envelope& envelope, FrameAuthenticator* auth);
// Same, without copying a big model's values (see Encode(Envelope&&)).
OutgoingFrame MakeFrame(Envelope&& envelope, FrameAuthenticator* auth);

// With an authenticator: the frame must carry a MAC that verifies (else
// kAuthFailed, drop the connection). Without one: a frame carrying a MAC is
// rejected (kInvalidInput), since no key was agreed. Then decodes the payload.
Result<Envelope> OpenFrame(const Frame& frame, FrameAuthenticator* auth);

}  // namespace grapevine::proto
