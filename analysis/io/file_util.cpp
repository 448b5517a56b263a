#include "analysis/io/file_util.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "analysis/core/error.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {
std::string systemError() {
  return std::strerror(errno);
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  [[nodiscard]] int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};
}  // namespace

OpenedFile openForReading(const fs::path& path) {
  // O_NONBLOCK: opening a FIFO without a writer returns at once instead of waiting for one.
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) throw IoError(path.string() + ": cannot open: " + systemError());
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0)
    throw IoError(path.string() + ": cannot read its size: " + systemError());
  if (S_ISDIR(st.st_mode)) throw IoError(path.string() + ": is a folder, not a file");
  if (!S_ISREG(st.st_mode)) {
    const char* kind = S_ISFIFO(st.st_mode)   ? "a FIFO (named pipe)"
                       : S_ISSOCK(st.st_mode) ? "a socket"
                       : S_ISCHR(st.st_mode)  ? "a character device"
                       : S_ISBLK(st.st_mode)  ? "a block device"
                                              : "not a regular file";
    throw IoError(fmt::format("{}: is {}, not a regular file", path.string(), kind));
  }
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags >= 0) (void)::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK);
  return {fd.release(), static_cast<uint64_t>(st.st_size)};
}

void checkReadable(const fs::path& path) {
  FileDescriptor(openForReading(path).fd);
}

std::vector<uint8_t> readWholeFile(const fs::path& path) {
  const OpenedFile opened = openForReading(path);
  FileDescriptor fd(opened.fd);
  std::vector<uint8_t> bytes(opened.size);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw IoError(path.string() + ": read failed: " + systemError());
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  bytes.resize(done);
  return bytes;
}

void writeFileAtomically(const fs::path& path, const std::function<void(const ByteSink&)>& write) {
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(folder, ec))
    throw IoError(path.string() + ": cannot write: folder " + folder.string() + " does not exist");
  std::random_device entropy;
  const fs::path temporary =
      folder / ("." + path.filename().string() + ".tmp" + std::to_string(::getpid()) + "_" +
                std::to_string(entropy() % 1000000));
  FileDescriptor fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (fd.get() < 0) throw IoError(path.string() + ": cannot write: " + systemError());
  try {
    const ByteSink sink = [&](std::span<const uint8_t> bytes) {
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw IoError(path.string() + ": write failed: " + systemError());
        done += static_cast<size_t>(n);
      }
    };
    write(sink);
    if (::fsync(fd.get()) != 0) throw IoError(path.string() + ": write failed: " + systemError());
    if (::close(fd.release()) != 0)
      throw IoError(path.string() + ": write failed: " + systemError());
    fs::rename(temporary, path, ec);
    if (ec) throw IoError(path.string() + ": cannot replace: " + ec.message());
  } catch (...) {
    fs::remove(temporary, ec);
    throw;
  }
}

void writeFileAtomically(const fs::path& path, std::span<const uint8_t> bytes) {
  writeFileAtomically(path, [&](const ByteSink& sink) { sink(bytes); });
}

void writeFileAtomically(const fs::path& path, const std::string& text) {
  writeFileAtomically(
      path, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

bool hasExtension(const fs::path& path, std::string_view suffix) {
  std::string name = path.filename().string();
  if (name.size() < suffix.size()) return false;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string stripImageExtension(const fs::path& path) {
  const std::string name = path.filename().string();
  for (std::string_view suffix :
       {".nii.gz", ".nii", ".png", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"})
    if (hasExtension(path, suffix)) return name.substr(0, name.size() - suffix.size());
  return path.stem().string();
}

}  // namespace gatescope
