#include "analysis/demo/staged_dataset.hpp"

#include <atomic>
#include <exception>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace fs = std::filesystem;

void writeStagedDataset(const fs::path& dir, const StagedDatasetWriter& writer) {
  fs::path target = fs::absolute(dir).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" -> "out"
  std::error_code ec;
  if (fs::exists(target, ec) && !(fs::is_directory(target, ec) && fs::is_empty(target, ec)))
    throw UsageError(target.string() +
                     ": already exists and is not empty; remove it or choose another folder for "
                     "the " +
                     writer.what + " dataset");
  fs::create_directories(target.parent_path(), ec);
  if (ec) throw IoError(target.parent_path().string() + ": cannot create folder: " + ec.message());

  // Staged beside the destination (same file system, so the final rename is atomic). A run that
  // was killed leaves only this hidden folder, which the next run replaces.
  const fs::path staging = target.parent_path() / ("." + target.filename().string() + ".partial");
  fs::remove_all(staging, ec);
  try {
    for (const std::string& folder : writer.folders) {
      fs::create_directories(staging / folder, ec);
      if (ec)
        throw IoError((staging / folder).string() + ": cannot create folder: " + ec.message());
    }
    const int total = writer.items;
    std::exception_ptr failure;
    std::atomic<bool> failed{false};
    int done = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int index = 0; index < total; ++index) {
      if (failed.load()) continue;
      // No exception may leave an OpenMP block: the first one is kept and rethrown below.
      std::exception_ptr error;
      try {
        writer.write_item(staging, index);
      } catch (...) {
        error = std::current_exception();
      }
#pragma omp critical(staged_dataset_report)
      {
        if (!error) {
          ++done;
          try {
            if (writer.progress) writer.progress(done, total);
          } catch (...) {
            error = std::current_exception();
          }
        }
        if (error && !failure) failure = error;
      }
      if (error) failed.store(true);
    }
    if (failure) std::rethrow_exception(failure);
    if (writer.finish) writer.finish(staging);
    fs::rename(staging, target, ec);  // replaces an empty folder
    if (ec)
      throw IoError(target.string() +
                    ": cannot move the finished dataset into place: " + ec.message());
  } catch (...) {
    fs::remove_all(staging, ec);
    throw;
  }
}

}  // namespace gatescope
