#pragma once

// What the fuzz targets share: the input as a file (the readers take paths), and the rule that a
// reader may only fail with gatescope's own errors - anything else (a crash, a sanitizer report,
// another exception, a hang, a huge allocation) is a finding.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

namespace gatescope::fuzz {

// The bytes in an anonymous in-memory file, reachable by a path (/proc/self/fd/N).
class MemoryFile {
 public:
  MemoryFile(const uint8_t* data, size_t size) : fd_(::memfd_create("fuzz", MFD_CLOEXEC)) {
    if (fd_ < 0) std::abort();
    for (size_t done = 0; done < size;) {
      const ssize_t n = ::write(fd_, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
  }
  ~MemoryFile() { ::close(fd_); }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  [[nodiscard]] std::filesystem::path path() const {
    return "/proc/self/fd/" + std::to_string(fd_);
  }

 private:
  int fd_;
};

// A private folder for targets that read a file by name (dataset.json, journal.jsonl, sessions).
inline const std::filesystem::path& scratchFolder() {
  static const std::filesystem::path folder = [] {
    char name[] = "/tmp/gatescope-fuzz-XXXXXX";
    if (!::mkdtemp(name)) std::abort();
    return std::filesystem::path(name);
  }();
  return folder;
}

inline void writeFile(const std::filesystem::path& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

inline std::string_view text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace gatescope::fuzz
