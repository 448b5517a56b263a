#pragma once

#include <filesystem>
#include <memory>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {

// A native zoo network from its manifest (model.json) and the checkpoint it names.
[[nodiscard]] std::unique_ptr<ModelAdapter> loadNativeModel(const std::filesystem::path& manifest,
                                                            const LoadOptions& options);

}  // namespace gatescope
