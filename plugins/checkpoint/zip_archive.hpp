#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace gatescope {

// Read-only view of a zip archive held in memory, as PyTorch writes them: stored (uncompressed)
// entries, ZIP64 where needed. FormatError naming `source` on anything else.
class ZipArchive {
 public:
  ZipArchive(std::span<const uint8_t> bytes, std::string source);
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  [[nodiscard]] std::span<const uint8_t> entry(const std::string& name) const;

 private:
  std::span<const uint8_t> bytes_;
  std::string source_;
  std::map<std::string, std::span<const uint8_t>> entries_;
  std::set<std::string> compressed_;
};

}  // namespace gatescope
