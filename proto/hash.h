// Content hash of a float32 parameter vector, carried in ModelPayload.content_hash
// and CrossGradient.content_hash so a receiver can detect corruption or a
// mismatch between what was announced and what arrived.
//
// XXH3-64 over the raw little-endian bytes (not a cryptographic hash: integrity
// against accidents; tampering is the frame MAC's job). Measured at roughly
// memory bandwidth, see bench/proto/proto_bench.cc and docs/protocol.md.
//
// Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <span>

namespace grapevine::proto {

uint64_t ContentHash(std::span<const float> values);

// Same hash over arbitrary bytes (e.g. a compressed `packed` blob).
uint64_t ContentHashBytes(std::span<const uint8_t> bytes);

}  // namespace grapevine::proto
