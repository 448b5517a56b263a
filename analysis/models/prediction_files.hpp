#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/core/image.hpp"
#include "analysis/io/staged_folder.hpp"
#include "analysis/models/model_adapter.hpp"

namespace gatescope {

// Writes a prediction as `gatescope infer` does (docs/cli.md) under `folder`/`prefix`:
// labels.nii.gz, probabilities.nii.gz, gates/<gate>.nii.gz on the input grid and
// gates/<gate>_native.nii.gz at the gate's own resolution (and gates/<gate>_coarse.nii.gz where the
// prediction holds the compatibility grid), each with the input's qform/sform codes.
// `wanted` picks gates by name (empty: every gate). Returns the gate list of infer.json.
[[nodiscard]] nlohmann::ordered_json writePredictionFiles(
    StagedFolder& folder, const std::string& prefix, const Prediction& prediction,
    const ImageHeader& input, const std::function<bool(const std::string&)>& wanted = {});

}  // namespace gatescope
