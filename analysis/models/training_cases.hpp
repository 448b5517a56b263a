#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "analysis/models/training.hpp"

namespace gatescope {

struct TrainingCases {
  std::string dataset_name;
  std::map<int, std::string> labels;  // as the dataset names them
  std::vector<TrainingSample>
      cases;  // as read: real values, labels checked to lie on the image grid
  std::vector<std::string> unlabelled;  // ids of split cases without reference labels (not used)
};

// Reads the configured split of config.dataset (analysis/datasets): every case with reference
// labels. A broken case (a missing file, labels off the image grid) is an error naming its files:
// training does not silently drop data. `progress` is called after each case read.
[[nodiscard]] TrainingCases readTrainingCases(
    const TrainingConfig& config, const std::function<void(size_t done, size_t total)>& progress);

}  // namespace gatescope
