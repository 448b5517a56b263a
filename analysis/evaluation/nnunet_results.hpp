#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gatescope {

// nnU-Net v2's results (docs/datasets.md#nnu-net-results): a trainer folder
// (<Trainer>__<Plans>__<configuration>/ with dataset.json, plans.json and fold_N/validation/) or
// one folder of its predictions with the summary.json nnU-Net computed for them.

// Per case and label, nnU-Net's own Dice and IoU (NaN where nnU-Net wrote NaN: no voxel of the
// label in the reference or the prediction).
struct NnunetCaseMetrics {
  double dice = 0.0, iou = 0.0;
  int64_t tp = 0, fp = 0, fn = 0;
};
struct NnunetSummary {
  std::vector<std::filesystem::path> files;                           // the summary.json files read
  std::map<std::string, std::map<int64_t, NnunetCaseMetrics>> cases;  // case id -> label -> ...
  std::vector<std::string>
      regions;  // region keys ("(1, 2)") of region-based training: not compared
};
// The summary.json files of the prediction folders (and of `folder` itself); nullopt where there
// is none. FormatError naming the file for one that is not nnU-Net's summary (nnU-Net writes
// NaN, which JSON lacks: it is read as NaN).
[[nodiscard]] std::optional<NnunetSummary> readNnunetSummaries(
    const std::filesystem::path& folder,
    const std::vector<std::filesystem::path>& prediction_folders);

// What the trainer folder says about itself: {"trainer", "plans", "configuration", "dataset",
// "ignore_label"} where present (its folder name, plans.json, dataset.json); null for a folder
// that is not nnU-Net's.
[[nodiscard]] nlohmann::ordered_json describeNnunetResults(const std::filesystem::path& folder);

// gatescope's Dice and IoU (jaccard) of model `key` in a finished report against nnU-Net's, per
// case and label: the differences and their summary per label (docs/datasets.md#nnu-net-results).
[[nodiscard]] nlohmann::ordered_json crossCheckNnunet(const NnunetSummary& summary,
                                                      const nlohmann::ordered_json& report,
                                                      const std::string& key);

// For every model of a finished report that is a prediction folder with nnU-Net summary.json files
// (its `manifest` names the folder): models.<key>.nnunet_check. What evaluate and merge do.
void addNnunetChecks(nlohmann::ordered_json& report);

}  // namespace gatescope
