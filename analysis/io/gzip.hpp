#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "analysis/io/file_util.hpp"

namespace gatescope {

[[nodiscard]] bool isGzip(std::span<const uint8_t> bytes);

// Decompresses the first `out.size()` bytes of a gzip stream (one or more members) into `out`.
// Returns how many bytes were produced: fewer than out.size() means the stream ended early.
// Throws FormatError naming `source` on corrupt data. Checksums are not verified (the stream is
// not decoded to its end): for headers only.
size_t gunzipPrefix(std::span<const uint8_t> compressed, std::span<uint8_t> out,
                    const std::string& source);

// As gunzipPrefix, but decodes the whole stream and verifies every member's CRC-32 and length
// before returning; bytes beyond out.size() are decoded and dropped. FormatError on a checksum
// mismatch or a stream cut after the data. Use it for data that will be used.
size_t gunzipVerified(std::span<const uint8_t> compressed, std::span<uint8_t> out,
                      const std::string& source);

// Decompresses a zlib stream (RFC 1950, as MetaImage's CompressedData holds it) that must expand
// to exactly out.size() bytes, its Adler-32 checksum verified. FormatError naming `source` on
// damaged or short data.
void zlibExact(std::span<const uint8_t> compressed, std::span<uint8_t> out,
               const std::string& source);

// Largest size `compressed` can expand to: deflate cannot exceed about 1032:1. Used to reject
// headers that promise more data than a file can hold, before allocating for it.
[[nodiscard]] uint64_t gzipExpansionBound(uint64_t compressed_bytes);

// Writes `parts` as a gzip stream to `sink`: one gzip member per chunk, which every gzip reader
// (zlib, Python, nibabel, libnifti) concatenates.
void gzipTo(const ByteSink& sink, const std::vector<std::span<const uint8_t>>& parts,
            int level = 6);

}  // namespace gatescope
