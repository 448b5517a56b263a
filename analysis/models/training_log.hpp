#pragma once

// What `gatescope train` recorded in train.json, read back for learning curves
// (docs/training.md): per model its name and every epoch's losses and validation Dice.
#include <filesystem>
#include <string>
#include <vector>

#include "analysis/models/training.hpp"

namespace gatescope {

struct TrainingCurve {
  std::string name;          // "gated", "baseline"
  std::string architecture;  // "unet_ct_single_att_dsv"
  std::vector<EpochRecord> epochs;
};

struct TrainingLog {
  std::string source;  // the file it was read from
  std::vector<TrainingCurve> models;
  int64_t training_cases = 0, validation_cases = 0;
};

// Reads train.json (or the training output folder holding it); FormatError naming the file and the
// field for anything that is not a train.json with at least one model of at least one epoch.
[[nodiscard]] TrainingLog readTrainingLog(const std::filesystem::path& path);

}  // namespace gatescope
