// IDX files (the MNIST / Fashion-MNIST container format), plain or gzip-compressed.
//
// An IDX file is a 4-byte magic {0, 0, type, ndims}, ndims big-endian uint32 dimensions,
// then the payload in row-major order. grapevine reads only unsigned-byte payloads
// (type 0x08): images are 0x00000803 (N × rows × cols), labels 0x00000801 (N).
// The reader checks the magic, the dimensions and the exact payload length; every error
// names the file and, for content errors, the byte offset in the (decompressed) stream.
// Compression is detected from the content (gzip magic), not from the file name.
//
// Thread-safety: free functions over independent files; safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "learn/dataset.h"

namespace grapevine::learn {

// Magic numbers of the two IDX kinds grapevine reads.
inline constexpr uint32_t kIdxImagesMagic = 0x00000803;
inline constexpr uint32_t kIdxLabelsMagic = 0x00000801;

// The decoded contents of one IDX file.
struct IdxArray {
  std::vector<uint32_t> dims;  // e.g. {60000, 28, 28}
  std::vector<uint8_t> data;   // product(dims) bytes, row-major
};

// Reads `path` and requires the magic 0x0000080<expected_ndims>.
// Errors: NotFound if the file is missing; Invalid for bad magic, zero or absurd
// dimensions, truncation, trailing bytes, or corrupt compression.
Result<IdxArray> ReadIdx(const std::string& path, int expected_ndims);

// Writes an unsigned-byte IDX file (gzip-compressed when `gzip`). For tests and tools.
// REQUIRES: data.size() == product(dims).
Status WriteIdx(const std::string& path, const std::vector<uint32_t>& dims,
                const std::vector<uint8_t>& data, bool gzip);

// Raw (un-normalised) images + labels read from an IDX pair.
struct IdxImages {
  std::vector<uint8_t> pixels;  // n × rows × cols, example-major
  std::vector<int32_t> labels;  // n
  int rows = 0;
  int cols = 0;
  int64_t size() const { return static_cast<int64_t>(labels.size()); }
};

// Reads an images file and a labels file and checks that their counts agree and,
// if num_classes > 0, that every label is < num_classes.
Result<IdxImages> ReadIdxPair(const std::string& images_path, const std::string& labels_path,
                              int num_classes);

}  // namespace grapevine::learn
