// Envelope <-> frame: what a session does with the frames of proto/framer.h.
//
// Sending: proto::Encode(envelope) gives the payload pieces, which a FrameEncoder
// frames and seals (sessions write its batches; FlattenFrame collects them into one
// buffer for tests and tools). Receiving: a FrameDecoder delivers frames that passed
// its opener, and OpenFrame decodes one into an Envelope, letting a big model's values
// view the frame's own memory instead of copying it.
//
// Thread-safety: pure functions, except for the stage FlattenFrame is given.
#pragma once

#include <cstdint>
#include <vector>

#include "base/status.h"
#include "proto/codec.h"
#include "proto/frame_stage.h"
#include "proto/framer.h"
#include "proto/messages.h"

namespace grapevine::proto {

// Decodes a received frame's payload. Big float arrays (>= 64 KiB of a modelPayload or
// crossGradient) share ownership of frame.storage and view it (Decode(payload, block)).
Result<Envelope> OpenFrame(Frame&& frame);

// The bytes of one whole frame around `message`, through a FrameEncoder with `sealer`
// (null: no trailer). Advances the sealer's sequence, as sending would.
std::vector<uint8_t> FlattenFrame(const EncodedMessage& message, FrameSealer* sealer);

}  // namespace grapevine::proto
