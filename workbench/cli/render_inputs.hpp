#pragma once

// What `gatescope render` draws from: one case's image, reference and model outputs, read from an
// evaluation folder (report.json + predictions/<A|B>/<case>/ of `evaluate --save-predictions`) or
// from files (an image, a reference, `infer` output folders).
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "renderers/figures.hpp"

namespace gatescope::cli {

struct RenderSource {
  std::string evaluation;                 // evaluation output folder
  std::string case_id;                    // with evaluation
  std::string image, reference;           // files
  std::vector<std::string> prediction_dirs;  // infer output folders: model A [, model B]
};

struct LoadedCase {
  CaseVolumes volumes;
  std::vector<ModelOutputs> models;  // A [, B]
  std::map<int, std::string> label_names;
  std::optional<nlohmann::ordered_json> report;
};

// Reads everything the source names; every volume is checked against the image's grid and errors
// name the file. `want_probabilities` skips the (large) probability maps when a figure needs none.
[[nodiscard]] LoadedCase loadRenderCase(const RenderSource& source, bool want_probabilities);

// "2", or a label name from the dataset ("liver"); 0 for an empty text.
[[nodiscard]] int parseLabel(const std::string& text, const std::map<int, std::string>& names);

// "axial,coronal:20,sagittal" -> choices (a slice index after the colon; none: automatic).
[[nodiscard]] std::vector<SliceChoice> parseViews(const std::string& text);

// The evaluation report at DIR/report.json (or the file itself), parsed.
[[nodiscard]] nlohmann::ordered_json readReport(const std::filesystem::path& path);

}  // namespace gatescope::cli
