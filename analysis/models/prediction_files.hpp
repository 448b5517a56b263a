#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/attribution/attribution_maps.hpp"
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

// Only the gate files of writePredictionFiles (a classifier's gates); returns infer.json's list.
[[nodiscard]] nlohmann::ordered_json writeGateFiles(
    StagedFolder& folder, const std::string& prefix, const std::vector<GatePrediction>& maps,
    const ImageHeader& input, const std::function<bool(const std::string&)>& wanted = {});

// A classifier's answer as infer.json holds it (docs/classification.md): appends "probabilities",
// "heads", "head_names", "predicted_class" and, where the model names its classes,
// "predicted_class_name" and "class_names" to `record`.
void appendClassification(nlohmann::ordered_json& record, const Classification& c,
                          const ModelInfo& info);

// Attribution maps as `gatescope attribute` writes them (docs/attribution.md) under
// `folder`/`prefix`: attributions/<method>/<layer>.nii.gz on the input grid, and for layer methods
// <layer>_native.nii.gz on the layer's grid; the maps of several classes go on the 4th axis, in the
// order of `maps`. Returns the "maps" list of attribute.json: per method and layer its files,
// classes, regions, scores, completeness errors and seconds.
[[nodiscard]] nlohmann::ordered_json writeAttributionFiles(StagedFolder& folder,
                                                           const std::string& prefix,
                                                           const std::vector<AttributionMap>& maps,
                                                           const ImageHeader& input);

}  // namespace gatescope
