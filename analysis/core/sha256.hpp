#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

namespace gatescope {

// SHA-256 (FIPS 180-4), for the provenance of model weights in reports.
class Sha256 {
 public:
  Sha256();
  void update(std::span<const uint8_t> bytes);
  [[nodiscard]] std::string hexDigest();  // finishes the hash

 private:
  void block(const uint8_t* data);
  std::array<uint32_t, 8> state_{};
  std::array<uint8_t, 64> buffer_{};
  size_t buffered_ = 0;
  uint64_t length_ = 0;
};

[[nodiscard]] std::string sha256Hex(std::span<const uint8_t> bytes);
// Streams the file; IoError naming it when it cannot be read.
[[nodiscard]] std::string sha256File(const std::filesystem::path& path);

}  // namespace gatescope
