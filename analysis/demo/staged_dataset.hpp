#pragma once

// How the synthetic demo datasets are written: every item into a staging folder beside the
// destination, in parallel, and the finished folder renamed into place, so that an interrupted run
// leaves no partial dataset.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace gatescope {

struct StagedDatasetWriter {
  std::string what;                  // "synthetic abdomen", named in errors
  std::vector<std::string> folders;  // created in the staging folder before any item is written
  int items = 0;
  // Writes item `index` below `staging`; called from worker threads, any order.
  std::function<void(const std::filesystem::path& staging, int index)> write_item;
  // Writes what describes the whole dataset (dataset.json, a list), after every item.
  std::function<void(const std::filesystem::path& staging)> finish;
  // After each written item; one call at a time.
  std::function<void(int done, int total)> progress;
};

// UsageError when `dir` exists and is not empty; the first error of any item is rethrown after
// the staging folder is removed.
void writeStagedDataset(const std::filesystem::path& dir, const StagedDatasetWriter& writer);

}  // namespace gatescope
