#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

namespace gatescope {

struct MergeResult {
  nlohmann::ordered_json report;
  size_t journals = 0;      // journal files read
  size_t linked_files = 0;  // saved predictions made visible in the output folder
};

// gatescope merge (docs/scaling.md): one report from the journals of `evaluate --shard K/N` runs
// (or of any runs of the same evaluation) in `dirs`, equal to a single process's report but for
// its timings. Every journal must belong to the same run and case list (UsageError naming the file
// and what differs); every case must be in one (IoError naming the missing cases and the shards
// they belong to). Writes OUT/report.json and OUT/cases.csv, and links (or copies, across file
// systems) the shards' saved predictions into OUT/predictions/ when OUT is another folder.
[[nodiscard]] MergeResult mergeEvaluations(const std::vector<std::filesystem::path>& dirs,
                                           const std::filesystem::path& out);

}  // namespace gatescope
