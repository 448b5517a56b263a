#pragma once

// Parts of the JSON records that infer and attribute write next to their outputs, and the options
// they share.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {
class Registry;
}

namespace gatescope::cli {

// {"name", "architecture", "path" (absolute), "classes", "labels"} of a loaded model.
[[nodiscard]] nlohmann::ordered_json modelRecord(const ModelInfo& info, const std::string& path);
// "LibTorch 1.13.0": the runtime the registry's plugin runs models on.
[[nodiscard]] std::string runtimeName(Registry& registry);

// --window "96,96,48" -> {96, 96, 48}: as many positive sizes as the model has spatial axes (a 2D
// model also takes X,Y,1). UsageError otherwise.
[[nodiscard]] std::vector<int64_t> parseWindow(const std::string& text, int dimensions);

}  // namespace gatescope::cli
