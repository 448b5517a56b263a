#include "analysis/io/staged_folder.hpp"

#include <random>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace fs = std::filesystem;

StagedFolder::StagedFolder(const fs::path& target) : target_(target) {
  std::error_code ec;
  fs::create_directories(target_, ec);
  if (ec || !fs::is_directory(target_))
    throw IoError(target_.string() + ": cannot create the output folder" +
                  (ec ? ": " + ec.message() : ""));
  staging_ = target_ / (".staging-" + std::to_string(std::random_device{}()));
  fs::create_directories(staging_, ec);
  if (ec)
    throw IoError(target_.string() + ": cannot write into the output folder: " + ec.message());
}

StagedFolder::~StagedFolder() {
  std::error_code ec;
  fs::remove_all(staging_, ec);
}

fs::path StagedFolder::stage(const std::string& relative) {
  const fs::path path = staging_ / relative;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw IoError(path.parent_path().string() + ": cannot create folder: " + ec.message());
  files_.push_back(relative);
  return path;
}

void StagedFolder::commit() {
  for (const auto& relative : files_) {
    const fs::path to = target_ / relative;
    std::error_code ec;
    fs::create_directories(to.parent_path(), ec);
    fs::rename(staging_ / relative, to, ec);
    if (ec)
      throw IoError(to.string() + ": cannot move the finished file into place: " + ec.message());
  }
  files_.clear();
}

}  // namespace gatescope
