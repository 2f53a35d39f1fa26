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

#include <array>
#include <cstdint>
#include <memory>
#include <span>
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

// Reads one IDX file's payload in pieces, so a caller can keep only the part it needs
// (an agent's shard) without holding the whole payload. Open() reads and checks the
// magic and the dimensions; Read() hands out the next payload bytes; Finish() checks
// that nothing follows the payload. Errors are those of ReadIdx, with the same offsets.
// Owns the open file; not thread-safe.
class IdxStream {
 public:
  // NotFound if the file is missing; Invalid for a bad magic or bad dimensions.
  static Result<std::unique_ptr<IdxStream>> Open(const std::string& path, int expected_ndims);
  ~IdxStream();

  const std::string& path() const { return path_; }
  const std::vector<uint32_t>& dims() const { return dims_; }
  uint64_t payload_bytes() const { return payload_; }
  uint64_t payload_read() const { return done_; }
  uint64_t header_bytes() const { return header_bytes_; }  // magic + dimensions
  bool compressed() const { return compressed_; }            // gzip (offsets are decompressed)

  // Reads exactly `len` more payload bytes into `out`; Invalid ("truncated at byte …")
  // if the stream ends first. REQUIRES: payload_read() + len <= payload_bytes().
  Status Read(uint8_t* out, uint64_t len);
  // Invalid if the file has bytes after the payload. REQUIRES: the whole payload was read.
  Status Finish();

 private:
  struct File;
  IdxStream(std::string path, std::unique_ptr<File> file);
  std::string path_;
  std::unique_ptr<File> file_;
  std::vector<uint32_t> dims_;
  uint64_t payload_ = 0;
  uint64_t header_bytes_ = 0;
  uint64_t done_ = 0;
  bool compressed_ = false;
};

// The rows of an images file (0x00000803) at `keep` (strictly ascending example
// indices), streamed through a bounded buffer: only the kept rows are stored, in
// `rows` (keep.size() × rows × cols bytes). If `histogram` is non-null every pixel
// of the file is counted into it. The whole file is read and checked (truncation,
// trailing bytes), so a bad file fails here however few rows are kept.
// Invalid also if an index in `keep` is beyond the file's image count.
Status ReadIdxRows(IdxStream* images, std::span<const int64_t> keep, std::vector<uint8_t>* rows,
                   std::array<uint64_t, 256>* histogram);

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
