#include "proto/envelope_frame.h"

#include <utility>

namespace grapevine::proto {

Result<Envelope> OpenFrame(Frame&& frame) {
  return Decode(frame.payload, std::move(frame.storage));
}

std::vector<uint8_t> FlattenFrame(const EncodedMessage& message, FrameSealer* sealer) {
  FrameEncoder encoder;
  encoder.set_sealer(sealer);
  encoder.Begin(message.Pieces());
  std::vector<uint8_t> out;
  out.reserve(encoder.frame_bytes());
  for (auto* batch = &encoder.NextBatch(); !batch->empty(); batch = &encoder.NextBatch()) {
    for (auto piece : *batch) out.insert(out.end(), piece.begin(), piece.end());
  }
  return out;
}

}  // namespace grapevine::proto
