#include "proto/hash.h"

#include <xxhash.h>

#include <bit>

namespace grapevine::proto {

static_assert(std::endian::native == std::endian::little,
              "ContentHash hashes the in-memory float bytes, which must be the wire bytes");

uint64_t ContentHash(std::span<const float> values) {
  return XXH3_64bits(values.data(), values.size_bytes());
}

uint64_t ContentHashBytes(std::span<const uint8_t> bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

}  // namespace grapevine::proto
