#pragma once

// Attribution maps of the shown case computed in the workbench (a background task): any model the
// case came from, any method and layers, the class of the focus label; the maps join the model's
// layers as evaluate's saved maps do (docs/attribution.md).
#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/core/volume.hpp"
#include "analysis/models/model_adapter.hpp"

namespace gatescope {
class Registry;
}

namespace gatescope::workbench {

struct CaseAttributionRequest {
  Volume<float> image;  // the case's image, as shown
  // Per model to explain: its index in the case (0 = A, 1 = B) and its file (model.json or .pt).
  std::vector<std::pair<int, std::filesystem::path>> models;
  AttributionMethod method = AttributionMethod::GradCam;
  std::vector<std::string> layers;  // layer methods; empty: the model's default layers
  int64_t target_class = 1;
  std::string device = "auto";
  const std::atomic<bool>* cancel = nullptr;  // set: stop at the next step with Error "cancelled"
};

struct CaseAttribution {
  int model = 0;
  // "gradcam@conv3 class 2" -> the map's positive part divided by its maximum, on the image grid.
  std::vector<std::pair<std::string, Volume<float>>> maps;
};

// The maps, per model in the request's order. `progress` gets the fraction done (< 0: unknown) and
// a line. Errors name the model file; UsageError for a class the model does not have.
[[nodiscard]] std::vector<CaseAttribution> attributeCase(
    const CaseAttributionRequest& request, Registry& registry,
    const std::function<void(double fraction, const std::string& line)>& progress = {});

// Where a model file a report records lies: as recorded, else relative to the evaluation folder
// and its parent (reports keep paths as evaluate was given them). IoError naming it otherwise.
[[nodiscard]] std::filesystem::path locateModelFile(const std::string& recorded,
                                                    const std::filesystem::path& evaluation);

}  // namespace gatescope::workbench
