#pragma once

// Parts of the JSON records that infer and attribute write next to their outputs.
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {
class Registry;
}

namespace gatescope::cli {

// {"name", "architecture", "path" (absolute), "classes", "labels"} of a loaded model.
[[nodiscard]] nlohmann::ordered_json modelRecord(const ModelInfo& info, const std::string& path);
// "LibTorch 1.13.0": the runtime the registry's plugin runs models on.
[[nodiscard]] std::string runtimeName(Registry& registry);

}  // namespace gatescope::cli
