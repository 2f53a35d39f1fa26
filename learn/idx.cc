#include "learn/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

namespace grapevine::learn {

// Outside the anonymous namespace: IdxStream::File (declared in idx.h) holds one, and a
// member of an anonymous-namespace type there is -Wsubobject-linkage.
struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

namespace {

// Above this an IDX payload is certainly a corrupt header, not a dataset (16 GiB).
constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 34;
constexpr unsigned kReadChunk = 1u << 30;
constexpr uint64_t kInitialBuffer = uint64_t{4} << 20;

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

std::string Hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "0x%08x", v);
  return buf;
}

// Reads up to `len` bytes; returns the count read (short only at end of stream) or an
// error status for a corrupt compressed stream.
Result<uint64_t> ReadFully(gzFile f, uint8_t* out, uint64_t len, const std::string& path,
                           uint64_t stream_offset) {
  uint64_t done = 0;
  while (done < len) {
    const unsigned want = static_cast<unsigned>(std::min<uint64_t>(len - done, kReadChunk));
    const int got = gzread(f, out + done, want);
    if (got < 0) {
      int errnum = 0;
      const char* msg = gzerror(f, &errnum);
      return Status::Invalid(path + ": corrupt compressed data near byte " +
                             std::to_string(stream_offset + done) + ": " + msg);
    }
    if (got == 0) break;
    done += static_cast<uint64_t>(got);
  }
  return done;
}

// The stream length the file itself announces, if cheaply known: the size of a plain
// file, or a gzip trailer's ISIZE (uncompressed length mod 2^32). Only a sizing hint.
uint64_t AnnouncedStreamSize(const std::string& path, bool compressed) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return 0;
  uint64_t size = 0;
  if (std::fseek(f, 0, SEEK_END) == 0) {
    const long end = std::ftell(f);
    uint8_t trailer[4];
    if (!compressed) {
      size = end > 0 ? static_cast<uint64_t>(end) : 0;
    } else if (end >= 4 && std::fseek(f, -4, SEEK_END) == 0 && std::fread(trailer, 1, 4, f) == 4) {
      size = uint64_t{trailer[0]} | (uint64_t{trailer[1]} << 8) | (uint64_t{trailer[2]} << 16) |
             (uint64_t{trailer[3]} << 24);
    }
  }
  std::fclose(f);
  return size;
}

}  // namespace

struct IdxStream::File {
  GzFile gz;
};

IdxStream::IdxStream(std::string path, std::unique_ptr<File> file)
    : path_(std::move(path)), file_(std::move(file)) {}

IdxStream::~IdxStream() = default;

Result<std::unique_ptr<IdxStream>> IdxStream::Open(const std::string& path, int expected_ndims) {
  GV_CHECK(expected_ndims >= 1 && expected_ndims <= 4);
  errno = 0;
  auto file = std::make_unique<File>();
  file->gz.reset(gzopen(path.c_str(), "rb"));
  if (!file->gz) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  }
  gzbuffer(file->gz.get(), 1 << 18);
  gzFile gz = file->gz.get();

  uint8_t magic[4];
  GV_ASSIGN_OR_RETURN(uint64_t got, ReadFully(gz, magic, 4, path, 0));
  if (got < 4) {
    return Status::Invalid(path + ": truncated at byte " + std::to_string(got) +
                           ": expected a 4-byte IDX magic");
  }
  const uint32_t expected_magic = 0x00000800u | static_cast<uint32_t>(expected_ndims);
  const uint32_t actual_magic = BigEndian32(magic);
  if (actual_magic != expected_magic) {
    std::string what = magic[0] != 0 || magic[1] != 0 ? "not an IDX file"
                       : magic[2] != 0x08             ? "IDX element type is not unsigned byte"
                                                      : "wrong number of dimensions";
    return Status::Invalid(path + ": bad magic " + Hex32(actual_magic) + " at byte 0: expected " +
                           Hex32(expected_magic) + " (" + what + ")");
  }

  std::unique_ptr<IdxStream> out(new IdxStream(path, std::move(file)));
  out->dims_.resize(static_cast<size_t>(expected_ndims));
  std::vector<uint8_t> header(4 * out->dims_.size());
  GV_ASSIGN_OR_RETURN(got, ReadFully(gz, header.data(), header.size(), path, 4));
  if (got < header.size()) {
    return Status::Invalid(path + ": truncated at byte " + std::to_string(4 + got) + ": expected " +
                           std::to_string(header.size()) + " bytes of dimensions");
  }
  uint64_t payload = 1;
  for (size_t i = 0; i < out->dims_.size(); ++i) {
    out->dims_[i] = BigEndian32(&header[4 * i]);
    if (out->dims_[i] == 0) {
      return Status::Invalid(path + ": dimension " + std::to_string(i) + " is zero (at byte " +
                             std::to_string(4 + 4 * i) + ")");
    }
    payload *= out->dims_[i];
    if (payload > kMaxPayloadBytes) {
      return Status::Invalid(path + ": dimensions at byte 4 describe more than " +
                             std::to_string(kMaxPayloadBytes) + " bytes; corrupt header?");
    }
  }
  out->payload_ = payload;
  out->header_bytes_ = 4 + header.size();
  // Offsets count bytes of the IDX stream; for a .gz file that is the decompressed data.
  out->compressed_ = !gzdirect(gz);
  return out;
}

Status IdxStream::Read(uint8_t* out, uint64_t len) {
  GV_CHECK(done_ + len <= payload_);
  GV_ASSIGN_OR_RETURN(uint64_t got,
                      ReadFully(file_->gz.get(), out, len, path_, header_bytes_ + done_));
  done_ += got;
  if (got < len) {
    return Status::Invalid(path_ + ": truncated at byte " + std::to_string(header_bytes_ + done_) +
                           (compressed_ ? " (decompressed)" : "") + ": expected " +
                           std::to_string(payload_) + " bytes of " +
                           (dims_.size() == 1 ? "labels" : "pixels") + " after the " +
                           std::to_string(header_bytes_) + "-byte header");
  }
  return Status::Ok();
}

Status IdxStream::Finish() {
  GV_CHECK(done_ == payload_);
  uint8_t extra;
  GV_ASSIGN_OR_RETURN(uint64_t got,
                      ReadFully(file_->gz.get(), &extra, 1, path_, header_bytes_ + payload_));
  if (got != 0) {
    return Status::Invalid(path_ + ": trailing data at byte " +
                           std::to_string(header_bytes_ + payload_) +
                           (compressed_ ? " (decompressed)" : "") + ": the header describes " +
                           std::to_string(header_bytes_ + payload_) + " bytes");
  }
  return Status::Ok();
}

Result<IdxArray> ReadIdx(const std::string& path, int expected_ndims) {
  GV_ASSIGN_OR_RETURN(std::unique_ptr<IdxStream> stream, IdxStream::Open(path, expected_ndims));
  IdxArray out;
  out.dims = stream->dims();
  const uint64_t payload = stream->payload_bytes();
  // Unless the file announces exactly the claimed length, grow the buffer as bytes arrive
  // (doubling from kInitialBuffer): a corrupt header that claims gigabytes must not make a
  // tiny file allocate them.
  const bool compressed = stream->compressed();
  const uint64_t announced = AnnouncedStreamSize(path, compressed);
  const uint64_t claimed = stream->header_bytes() + payload;
  const bool trusted = compressed ? announced == (claimed & 0xffffffffu) : announced == claimed;
  while (stream->payload_read() < payload) {
    const uint64_t done = stream->payload_read();
    const uint64_t step = trusted ? payload : std::max(done, kInitialBuffer);
    const uint64_t next = std::min(payload, done + step);
    out.data.resize(next);
    GV_RETURN_IF_ERROR(stream->Read(out.data.data() + done, next - done));
  }
  GV_RETURN_IF_ERROR(stream->Finish());
  return out;
}

Status ReadIdxRows(IdxStream* images, std::span<const int64_t> keep, std::vector<uint8_t>* rows,
                   std::array<uint64_t, 256>* histogram) {
  GV_CHECK(images->dims().size() == 3 && images->payload_read() == 0);
  const int64_t n = images->dims()[0];
  const uint64_t row = uint64_t{images->dims()[1]} * images->dims()[2];
  for (size_t i = 0; i < keep.size(); ++i) {
    GV_CHECK(keep[i] >= 0 && (i == 0 || keep[i] > keep[i - 1]));
  }
  if (!keep.empty() && keep.back() >= n) {
    return Status::Invalid(images->path() + " has " + std::to_string(n) + " images; example " +
                           std::to_string(keep.back()) + " was asked for");
  }
  rows->resize(keep.size() * row);
  // Chunks of whole rows: about 1 MB, at least one row.
  const int64_t chunk_rows = static_cast<int64_t>(std::max<uint64_t>(1, (uint64_t{1} << 20) / row));
  std::vector<uint8_t> buffer(static_cast<size_t>(chunk_rows * static_cast<int64_t>(row)));
  // Four histograms side by side: consecutive equal pixels (black borders) would otherwise
  // serialise on one counter.
  std::vector<std::array<uint64_t, 256>> counts(histogram != nullptr ? 4 : 0);
  for (auto& c : counts) c.fill(0);
  size_t next_keep = 0;
  for (int64_t first = 0; first < n; first += chunk_rows) {
    const int64_t count = std::min(chunk_rows, n - first);
    const uint64_t bytes = static_cast<uint64_t>(count) * row;
    GV_RETURN_IF_ERROR(images->Read(buffer.data(), bytes));
    if (histogram != nullptr) {
      const uint8_t* p = buffer.data();
      uint64_t i = 0;
      for (; i + 4 <= bytes; i += 4) {
        ++counts[0][p[i]];
        ++counts[1][p[i + 1]];
        ++counts[2][p[i + 2]];
        ++counts[3][p[i + 3]];
      }
      for (; i < bytes; ++i) ++counts[0][p[i]];
    }
    while (next_keep < keep.size() && keep[next_keep] < first + count) {
      std::memcpy(rows->data() + next_keep * row,
                  buffer.data() + static_cast<uint64_t>(keep[next_keep] - first) * row, row);
      ++next_keep;
    }
    // Beyond the last kept row only a histogram needs the pixels; still, the rest of the
    // file is read so that truncation and trailing bytes are caught.
  }
  if (histogram != nullptr) {
    for (size_t v = 0; v < 256; ++v) {
      (*histogram)[v] += counts[0][v] + counts[1][v] + counts[2][v] + counts[3][v];
    }
  }
  return images->Finish();
}

Status WriteIdx(const std::string& path, const std::vector<uint32_t>& dims,
                const std::vector<uint8_t>& data, bool gzip) {
  GV_CHECK(!dims.empty() && dims.size() <= 4);
  uint64_t payload = 1;
  for (uint32_t d : dims) payload *= d;
  GV_CHECK(payload == data.size());
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t d : dims) {
    for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(d >> shift));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());

  // "T" asks zlib for a transparent (uncompressed) write.
  GzFile file(gzopen(path.c_str(), gzip ? "wb6" : "wbT"));
  if (!file) return Status::IoError(path + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes.size() - done, kReadChunk));
    if (gzwrite(file.get(), bytes.data() + done, chunk) != static_cast<int>(chunk)) {
      return Status::IoError(path + ": write failed");
    }
    done += chunk;
  }
  if (gzclose(file.release()) != Z_OK) return Status::IoError(path + ": close failed");
  return Status::Ok();
}

Result<IdxImages> ReadIdxPair(const std::string& images_path, const std::string& labels_path,
                              int num_classes) {
  GV_ASSIGN_OR_RETURN(IdxArray images, ReadIdx(images_path, 3));
  GV_ASSIGN_OR_RETURN(IdxArray labels, ReadIdx(labels_path, 1));
  if (images.dims[0] != labels.dims[0]) {
    return Status::Invalid(images_path + " has " + std::to_string(images.dims[0]) + " images but " +
                           labels_path + " has " + std::to_string(labels.dims[0]) + " labels");
  }
  if (images.dims[1] > INT_MAX / images.dims[2]) {
    return Status::Invalid(images_path + ": image size " + std::to_string(images.dims[1]) + "x" +
                           std::to_string(images.dims[2]) + " is too large");
  }
  IdxImages out;
  out.rows = static_cast<int>(images.dims[1]);
  out.cols = static_cast<int>(images.dims[2]);
  out.pixels = std::move(images.data);
  out.labels.resize(labels.data.size());
  const size_t header_bytes = 8;
  for (size_t i = 0; i < labels.data.size(); ++i) {
    const int label = labels.data[i];
    if (num_classes > 0 && label >= num_classes) {
      return Status::Invalid(labels_path + ": label " + std::to_string(label) + " of example " +
                             std::to_string(i) + " (byte " + std::to_string(header_bytes + i) +
                             ") is out of range [0, " + std::to_string(num_classes) + ")");
    }
    out.labels[i] = label;
  }
  return out;
}

}  // namespace grapevine::learn
