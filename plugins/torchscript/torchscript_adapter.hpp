#pragma once

#include <filesystem>
#include <memory>

#include "analysis/models/model_adapter.hpp"

namespace gatescope {

// A TorchScript model following the export contract (docs/models.md): forward(x) returns logits,
// or a Dict[str, Tensor] with "logits" and "gate/<name>" entries; an optional "gatescope.json"
// extra file carries the manifest fields (name, labels, preprocessing, channels, tensor_dim, ...).
[[nodiscard]] std::unique_ptr<ModelAdapter> loadTorchScriptModel(const std::filesystem::path& path,
                                                                 const LoadOptions& options);

}  // namespace gatescope
