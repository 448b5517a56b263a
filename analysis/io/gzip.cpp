#include "analysis/io/gzip.hpp"

#include <fmt/format.h>
#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "analysis/core/error.hpp"

namespace gatescope {

bool isGzip(std::span<const uint8_t> bytes) {
  return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

uint64_t gzipExpansionBound(uint64_t compressed_bytes) {
  return compressed_bytes * 1032 + 4096;
}

namespace {

struct DecompressorDeleter {
  void operator()(libdeflate_decompressor* d) const { libdeflate_free_decompressor(d); }
};
struct CompressorDeleter {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

// zlib streaming: fills `out`. With `verify` it then decodes the rest of the stream into a scratch
// buffer so that zlib checks every member's CRC-32 and length (a flipped byte in the deflate data
// can decode to plausible but wrong values); without, it stops as soon as `out` is full.
size_t zlibPrefix(std::span<const uint8_t> compressed, std::span<uint8_t> out,
                  const std::string& source, bool verify) {
  z_stream stream{};
  if (inflateInit2(&stream, 15 + 32) != Z_OK) throw Error(source + ": cannot start zlib");
  std::vector<uint8_t> scratch;
  size_t produced = 0;
  size_t consumed = 0;
  int status = Z_OK;
  const auto fail = [&](const std::string& what) {
    inflateEnd(&stream);
    throw FormatError(source + ": " + what);
  };
  while (true) {
    const bool full = produced >= out.size();
    if (full && !verify) break;
    if (full && scratch.empty()) scratch.resize(1u << 16);
    const size_t in_chunk = std::min<size_t>(compressed.size() - consumed, 1u << 30);
    const size_t out_chunk =
        full ? scratch.size() : std::min<size_t>(out.size() - produced, 1u << 30);
    stream.next_in = const_cast<Bytef*>(compressed.data() + consumed);
    stream.avail_in = static_cast<uInt>(in_chunk);
    stream.next_out = full ? scratch.data() : out.data() + produced;
    stream.avail_out = static_cast<uInt>(out_chunk);
    status = inflate(&stream, Z_NO_FLUSH);
    consumed += in_chunk - stream.avail_in;
    if (!full) produced += out_chunk - stream.avail_out;
    if (status == Z_STREAM_END) {
      // Another gzip member may follow.
      if (consumed + 2 <= compressed.size() && isGzip(compressed.subspan(consumed))) {
        inflateReset(&stream);
        continue;
      }
      break;
    }
    if (status == Z_BUF_ERROR && consumed == compressed.size()) {  // input ran out
      // Short of the data: the caller reports how much is there. With the data but no end: the
      // stream was cut, and its checksum could not be verified.
      if (verify && produced >= out.size())
        fail("truncated gzip stream (the end of the last member is missing)");
      break;
    }
    if (status != Z_OK) {
      const std::string message = stream.msg ? stream.msg : "zlib error";
      if (message.find("check") != std::string::npos)
        fail(fmt::format(
            "corrupt gzip data: {} (CRC-32 or length of a member does not match its contents)",
            message));
      fail(fmt::format("corrupt gzip data after {} bytes ({})", produced, message));
    }
  }
  inflateEnd(&stream);
  return produced;
}

}  // namespace

size_t gunzipPrefix(std::span<const uint8_t> compressed, std::span<uint8_t> out,
                    const std::string& source) {
  if (!isGzip(compressed)) throw FormatError(source + ": not a gzip file");
  return zlibPrefix(compressed, out, source, false);
}

size_t gunzipVerified(std::span<const uint8_t> compressed, std::span<uint8_t> out,
                      const std::string& source) {
  if (!isGzip(compressed)) throw FormatError(source + ": not a gzip file");
  // libdeflate decodes whole members and checks their CRC-32 and length, several times faster than
  // zlib; zlib takes over for a member that holds more than `out` still needs and for damaged data
  // (it reports how much decodes before the damage).
  std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> decompressor(
      libdeflate_alloc_decompressor());
  size_t consumed = 0;
  size_t produced = 0;
  while (consumed < compressed.size()) {
    if (!isGzip(compressed.subspan(consumed))) break;  // trailing bytes after the last member
    size_t member_in = 0;
    size_t member_out = 0;
    const auto result = libdeflate_gzip_decompress_ex(
        decompressor.get(), compressed.data() + consumed, compressed.size() - consumed,
        out.data() + produced, out.size() - produced, &member_in, &member_out);
    if (result != LIBDEFLATE_SUCCESS)
      return produced +
             zlibPrefix(compressed.subspan(consumed), out.subspan(produced), source, true);
    consumed += member_in;
    produced += member_out;
  }
  return produced;
}

void zlibExact(std::span<const uint8_t> compressed, std::span<uint8_t> out,
               const std::string& source) {
  std::unique_ptr<libdeflate_decompressor, DecompressorDeleter> decompressor(
      libdeflate_alloc_decompressor());
  size_t produced = 0;
  const auto result = libdeflate_zlib_decompress(
      decompressor.get(), compressed.data(), compressed.size(), out.data(), out.size(), &produced);
  if (result == LIBDEFLATE_SUCCESS && produced == out.size()) return;
  if (result == LIBDEFLATE_INSUFFICIENT_SPACE)
    throw FormatError(
        fmt::format("{}: the compressed voxels hold more than the {} bytes the header "
                    "declares",
                    source, out.size()));
  if (result == LIBDEFLATE_SUCCESS)
    throw FormatError(
        fmt::format("{}: the compressed voxels expand to {} bytes where the header "
                    "declares {}",
                    source, produced, out.size()));
  throw FormatError(source + ": the compressed voxels are damaged or cut short");
}

void gzipTo(const ByteSink& sink, const std::vector<std::span<const uint8_t>>& parts, int level) {
  std::unique_ptr<libdeflate_compressor, CompressorDeleter> compressor(
      libdeflate_alloc_compressor(level));
  constexpr size_t kChunk = size_t{16} << 20;
  std::vector<uint8_t> buffer;
  for (auto part : parts) {
    for (size_t start = 0; start < part.size(); start += kChunk) {
      const auto chunk = part.subspan(start, std::min(kChunk, part.size() - start));
      buffer.resize(libdeflate_gzip_compress_bound(compressor.get(), chunk.size()));
      const size_t n = libdeflate_gzip_compress(compressor.get(), chunk.data(), chunk.size(),
                                                buffer.data(), buffer.size());
      if (n == 0) throw Error("gzip compression failed");
      sink(std::span<const uint8_t>(buffer.data(), n));
    }
  }
}

}  // namespace gatescope
