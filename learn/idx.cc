#include "learn/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>

namespace grapevine::learn {
namespace {

// Above this an IDX payload is certainly a corrupt header, not a dataset (16 GiB).
constexpr uint64_t kMaxPayloadBytes = uint64_t{1} << 34;
constexpr unsigned kReadChunk = 1u << 30;
constexpr uint64_t kInitialBuffer = uint64_t{4} << 20;

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};
using GzFile = std::unique_ptr<gzFile_s, GzCloser>;

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

Result<IdxArray> ReadIdx(const std::string& path, int expected_ndims) {
  GV_CHECK(expected_ndims >= 1 && expected_ndims <= 4);
  errno = 0;
  GzFile file(gzopen(path.c_str(), "rb"));
  if (!file) {
    if (errno == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  }
  gzbuffer(file.get(), 1 << 18);

  uint8_t magic[4];
  GV_ASSIGN_OR_RETURN(uint64_t got, ReadFully(file.get(), magic, 4, path, 0));
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

  IdxArray out;
  out.dims.resize(static_cast<size_t>(expected_ndims));
  std::vector<uint8_t> header(4 * out.dims.size());
  GV_ASSIGN_OR_RETURN(got, ReadFully(file.get(), header.data(), header.size(), path, 4));
  if (got < header.size()) {
    return Status::Invalid(path + ": truncated at byte " + std::to_string(4 + got) + ": expected " +
                           std::to_string(header.size()) + " bytes of dimensions");
  }
  uint64_t payload = 1;
  for (size_t i = 0; i < out.dims.size(); ++i) {
    out.dims[i] = BigEndian32(&header[4 * i]);
    if (out.dims[i] == 0) {
      return Status::Invalid(path + ": dimension " + std::to_string(i) + " is zero (at byte " +
                             std::to_string(4 + 4 * i) + ")");
    }
    payload *= out.dims[i];
    if (payload > kMaxPayloadBytes) {
      return Status::Invalid(path + ": dimensions at byte 4 describe more than " +
                             std::to_string(kMaxPayloadBytes) + " bytes; corrupt header?");
    }
  }

  // Offsets count bytes of the IDX stream; for a .gz file that is the decompressed data.
  const bool compressed = !gzdirect(file.get());
  const std::string unit = compressed ? " (decompressed)" : "";
  const uint64_t data_offset = 4 + header.size();
  // Unless the file announces exactly the claimed length, grow the buffer as bytes arrive
  // (doubling from kInitialBuffer): a corrupt header that claims gigabytes must not make a
  // tiny file allocate them.
  const uint64_t announced = AnnouncedStreamSize(path, compressed);
  const uint64_t claimed = data_offset + payload;
  const bool trusted = compressed ? announced == (claimed & 0xffffffffu) : announced == claimed;
  uint64_t done = 0;
  while (done < payload) {
    const uint64_t step = trusted ? payload : std::max(done, kInitialBuffer);
    const uint64_t next = std::min(payload, done + step);
    out.data.resize(next);
    GV_ASSIGN_OR_RETURN(
        got, ReadFully(file.get(), out.data.data() + done, next - done, path, data_offset + done));
    done += got;
    if (done < next) break;
  }
  if (done < payload) {
    return Status::Invalid(path + ": truncated at byte " + std::to_string(data_offset + done) +
                           unit + ": expected " + std::to_string(payload) + " bytes of " +
                           (expected_ndims == 1 ? "labels" : "pixels") + " after the " +
                           std::to_string(data_offset) + "-byte header");
  }
  uint8_t extra;
  GV_ASSIGN_OR_RETURN(got, ReadFully(file.get(), &extra, 1, path, data_offset + payload));
  if (got != 0) {
    return Status::Invalid(
        path + ": trailing data at byte " + std::to_string(data_offset + payload) + unit +
        ": the header describes " + std::to_string(data_offset + payload) + " bytes");
  }
  return out;
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
