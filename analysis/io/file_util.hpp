#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace gatescope {

// Opens a regular file for reading and returns its descriptor (the caller closes it) and size.
// Never blocks: a FIFO, socket, device or folder is refused with an IoError naming the file (a
// FIFO would otherwise wait forever for a writer).
struct OpenedFile {
  int fd = -1;
  uint64_t size = 0;
};
[[nodiscard]] OpenedFile openForReading(const std::filesystem::path& path);

// Throws openForReading's errors for a file that cannot be read (before handing its path to a
// library that would block on a FIFO or crash on a folder).
void checkReadable(const std::filesystem::path& path);

// The whole file in memory; IoError naming the file when it cannot be read.
[[nodiscard]] std::vector<uint8_t> readWholeFile(const std::filesystem::path& path);

// Writes through a temporary file in the same folder and renames it over `path` only when every
// byte is written, so readers never see a half-written file. `write` receives a function that
// appends bytes to the temporary file.
using ByteSink = std::function<void(std::span<const uint8_t>)>;
void writeFileAtomically(const std::filesystem::path& path,
                         const std::function<void(const ByteSink&)>& write);
void writeFileAtomically(const std::filesystem::path& path, std::span<const uint8_t> bytes);
void writeFileAtomically(const std::filesystem::path& path, const std::string& text);

// "case_001" for ".../case_001.nii.gz", ".../case_001.nii", ".../case_001.png", ".nrrd", ".mha"...
[[nodiscard]] std::string stripImageExtension(const std::filesystem::path& path);
[[nodiscard]] bool hasExtension(const std::filesystem::path& path, std::string_view suffix);

}  // namespace gatescope
