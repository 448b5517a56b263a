#pragma once

// One image without an evaluation: the model(s) run on it in the workbench (a background task),
// their predictions and gate maps become a case, and with a reference label the metrics of each
// prediction are measured as `evaluate` measures them.
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/evaluation/saved_case.hpp"

namespace gatescope {
class Registry;
}

namespace gatescope::workbench {

struct ImageInspectionRequest {
  std::filesystem::path image;
  std::filesystem::path reference;            // optional
  std::vector<std::filesystem::path> models;  // A [, B]: manifests (.json) or TorchScript (.pt)
  std::string device = "auto";
};

struct ImageInspection {
  SavedCase loaded;
  // Per model, per label: the metric values (report keys, as evaluate writes them), when a
  // reference was given.
  std::vector<nlohmann::ordered_json> metrics;
};

// Runs the models on the image (gates captured), reads the reference (checked against the image's
// grid), measures. `progress` gets a line per step. Errors name the file.
[[nodiscard]] ImageInspection inspectImage(
    const ImageInspectionRequest& request, Registry& registry,
    const std::function<void(const std::string&)>& progress = {});

}  // namespace gatescope::workbench
