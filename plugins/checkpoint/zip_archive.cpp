#include "plugins/checkpoint/zip_archive.hpp"

#include <fmt/format.h>

#include <cstring>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

template <typename T>
T read(std::span<const uint8_t> bytes, uint64_t at, const std::string& source) {
  if (at > bytes.size() || bytes.size() - at < sizeof(T))
    throw FormatError(source + ": truncated zip archive");
  T v;
  std::memcpy(&v, bytes.data() + at, sizeof v);
  return v;
}

}  // namespace

ZipArchive::ZipArchive(std::span<const uint8_t> bytes, std::string source)
    : bytes_(bytes), source_(std::move(source)) {
  // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  if (bytes.size() < 22) throw FormatError(source_ + ": truncated zip archive");
  int64_t eocd = -1;
  const int64_t lowest = std::max<int64_t>(0, static_cast<int64_t>(bytes.size()) - 22 - 65535);
  for (int64_t at = static_cast<int64_t>(bytes.size()) - 22; at >= lowest; --at)
    if (read<uint32_t>(bytes, static_cast<uint64_t>(at), source_) == 0x06054b50) {
      eocd = at;
      break;
    }
  if (eocd < 0)
    throw FormatError(source_ + ": truncated or corrupt zip archive (no end of central directory)");
  uint64_t count = read<uint16_t>(bytes, static_cast<uint64_t>(eocd) + 10, source_);
  uint64_t directory = read<uint32_t>(bytes, static_cast<uint64_t>(eocd) + 16, source_);
  if ((count == 0xffff || directory == 0xffffffff) && eocd >= 20 &&
      read<uint32_t>(bytes, static_cast<uint64_t>(eocd) - 20, source_) == 0x07064b50) {
    const uint64_t zip64 = read<uint64_t>(bytes, static_cast<uint64_t>(eocd) - 20 + 8, source_);
    if (read<uint32_t>(bytes, zip64, source_) != 0x06064b50)
      throw FormatError(source_ + ": corrupt ZIP64 directory");
    count = read<uint64_t>(bytes, zip64 + 32, source_);
    directory = read<uint64_t>(bytes, zip64 + 48, source_);
  }
  uint64_t at = directory;
  for (uint64_t n = 0; n < count; ++n) {
    if (read<uint32_t>(bytes, at, source_) != 0x02014b50)
      throw FormatError(source_ + ": corrupt zip central directory");
    const uint16_t method = read<uint16_t>(bytes, at + 10, source_);
    uint64_t size = read<uint32_t>(bytes, at + 20, source_);  // compressed size
    const uint16_t name_length = read<uint16_t>(bytes, at + 28, source_);
    const uint16_t extra_length = read<uint16_t>(bytes, at + 30, source_);
    const uint16_t comment_length = read<uint16_t>(bytes, at + 32, source_);
    uint64_t local = read<uint32_t>(bytes, at + 42, source_);
    if (at + 46 + name_length > bytes.size())
      throw FormatError(source_ + ": truncated zip archive");
    const std::string name(reinterpret_cast<const char*>(bytes.data() + at + 46), name_length);
    // ZIP64 extra field: the 64-bit values replace the 32-bit ones that are 0xffffffff, in order.
    const uint32_t uncompressed32 = read<uint32_t>(bytes, at + 24, source_);
    for (uint64_t e = at + 46 + name_length; e + 4 <= at + 46 + name_length + extra_length;) {
      const uint16_t id = read<uint16_t>(bytes, e, source_);
      const uint16_t length = read<uint16_t>(bytes, e + 2, source_);
      if (id == 0x0001) {
        uint64_t field = e + 4;
        if (uncompressed32 == 0xffffffff) field += 8;
        if (size == 0xffffffff) {
          size = read<uint64_t>(bytes, field, source_);
          field += 8;
        }
        if (local == 0xffffffff) local = read<uint64_t>(bytes, field, source_);
      }
      e += 4 + length;
    }
    if (method != 0) {  // refused only when read: a caller may just be looking at the names
      compressed_.insert(name);
      entries_[name] = {};
      at += 46 + name_length + extra_length + comment_length;
      continue;
    }
    if (read<uint32_t>(bytes, local, source_) != 0x04034b50)
      throw FormatError(source_ + ": corrupt zip entry " + name);
    const uint64_t data = local + 30 + read<uint16_t>(bytes, local + 26, source_) +
                          read<uint16_t>(bytes, local + 28, source_);
    if (data + size > bytes.size())
      throw FormatError(
          fmt::format("{}: truncated: zip entry {} ends past the end of the file", source_, name));
    entries_[name] = bytes.subspan(static_cast<size_t>(data), static_cast<size_t>(size));
    at += 46 + name_length + extra_length + comment_length;
  }
}

std::vector<std::string> ZipArchive::names() const {
  std::vector<std::string> out;
  for (const auto& [name, data] : entries_) out.push_back(name);
  return out;
}

std::span<const uint8_t> ZipArchive::entry(const std::string& name) const {
  const auto it = entries_.find(name);
  if (it == entries_.end()) throw FormatError(source_ + ": zip archive has no entry " + name);
  if (compressed_.count(name))
    throw FormatError(source_ + ": zip entry " + name +
                      " is compressed; torch.save stores entries uncompressed");
  return it->second;
}

}  // namespace gatescope
