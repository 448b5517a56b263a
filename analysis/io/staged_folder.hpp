#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace gatescope {

// Files are written into a fresh hidden folder inside `target`, then moved into place by commit():
// an interrupted or failed run leaves `target` as it was (the staging folder is removed).
class StagedFolder {
 public:
  explicit StagedFolder(const std::filesystem::path& target);
  ~StagedFolder();
  StagedFolder(const StagedFolder&) = delete;
  StagedFolder& operator=(const StagedFolder&) = delete;

  // Where to write `relative` (sub-folders are created); it is moved into place on commit().
  [[nodiscard]] std::filesystem::path stage(const std::string& relative);
  void commit();
  [[nodiscard]] const std::filesystem::path& target() const { return target_; }
  // The hidden folder itself, for writers that name their own files (stage() them afterwards).
  [[nodiscard]] const std::filesystem::path& stagingFolder() const { return staging_; }

 private:
  std::filesystem::path target_, staging_;
  std::vector<std::string> files_;
};

}  // namespace gatescope
