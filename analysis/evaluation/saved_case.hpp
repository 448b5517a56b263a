#pragma once

// One case as an evaluation saved it (report.json + predictions/<A|B>/<case>/ of `evaluate
// --save-predictions`) or as files name it (an image, a reference, `infer` output folders): the
// volumes that figures and the workbench draw.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

// One case's volumes, all on the image's grid.
struct CaseVolumes {
  std::string id;
  Volume<float> image;
  std::optional<Volume<int32_t>> reference;  // classification: 1 where the telling structure is
  int true_class = -1;                       // classification evaluations: the image's class
};

// A classifier's answer for the image (docs/classification.md).
struct ClassAnswer {
  int predicted_class = 0;
  std::vector<double> probabilities;  // aggregated over the heads, one per class
};

// One model's outputs for the case.
struct ModelOutputs {
  std::string name;  // "A: gated"
  std::optional<Volume<int32_t>> prediction;
  std::optional<Volume<float>> probabilities;                // classes as channels
  std::vector<std::pair<std::string, Volume<float>>> gates;  // resampled to the image grid
  // gates/<gate>_native.nii.gz where saved: each gate at its own (coarser) resolution, on its own
  // grid (dims, spacing, origin, direction), not the image's.
  std::vector<std::pair<std::string, Volume<float>>> native_gates;
  // Attribution maps saved by `evaluate --attribution --save-predictions` (or a `gatescope
  // attribute` output folder given as a prediction folder), one per map and class
  // ("gradcam@conv3 class 1"), on the image grid, normalised for display: the positive part
  // divided by its maximum (docs/attribution.md).
  std::vector<std::pair<std::string, Volume<float>>> attributions;
  std::optional<ClassAnswer> classification;  // a classifier's; nullopt for segmentation
  // A folder of predictions stood for the model (docs/evaluation.md#prediction-folders): there
  // is no network, so no gates or attribution maps to show.
  bool stored_predictions = false;
};

struct SavedCaseSource {
  std::string evaluation;                    // evaluation output folder
  std::string case_id;                       // with evaluation
  std::string image, reference;              // files
  std::vector<std::string> prediction_dirs;  // infer output folders: model A [, model B]
};

struct SavedCase {
  CaseVolumes volumes;
  std::vector<ModelOutputs> models;  // A [, B]
  std::map<int, std::string> label_names;
  std::vector<std::string> class_names;  // classification: index -> name (may be empty)
  std::optional<nlohmann::ordered_json> report;
};

// Reads everything the source names (an evaluation of segmentation networks or of classifiers);
// every volume is checked against the image's grid and errors name the file. `want_probabilities`
// skips the (large) probability maps when nothing needs them.
[[nodiscard]] SavedCase loadSavedCase(const SavedCaseSource& source, bool want_probabilities);

// DIR/report.json, or `evaluation` itself when it is a file; IoError when there is none.
[[nodiscard]] std::filesystem::path evaluationReportFile(const std::filesystem::path& evaluation);

// The image `id` of an evaluation of classifiers in `dir` whose report (already read and checked)
// is `report`: the image, its localisation as the reference (1 inside), its class, and per model
// the answer the report records with the maps saved beside it. UsageError for an image the report
// lacks or without saved predictions.
[[nodiscard]] SavedCase loadClassifiedCase(const std::filesystem::path& dir,
                                           const nlohmann::ordered_json& report,
                                           const std::string& id);

// Whether `evaluation` (a folder or its report.json) holds an evaluation of classifiers.
[[nodiscard]] bool isClassificationEvaluation(const std::filesystem::path& evaluation);

// Images of an evaluation of classifiers with their saved predictions: those of `ids`, or without
// any the first image of each class (in the report's order) that has saved predictions. UsageError
// as loadSavedCase, or when no image has saved predictions.
[[nodiscard]] std::vector<SavedCase> loadClassifiedCases(const std::filesystem::path& evaluation,
                                                         const std::vector<std::string>& ids);

// The evaluation report at DIR/report.json (or the file itself), parsed; FormatError for a
// classification report.
[[nodiscard]] nlohmann::ordered_json readEvaluationReport(const std::filesystem::path& path);
// Ids of the report's cases whose predictions were saved under DIR/predictions/A/, or - model A a
// prediction folder - are in that folder.
[[nodiscard]] std::vector<std::string> casesWithPredictions(const std::filesystem::path& evaluation,
                                                            const nlohmann::ordered_json& report);
// Label names of the report's dataset (value -> name).
[[nodiscard]] std::map<int, std::string> reportLabelNames(const nlohmann::ordered_json& report);

// "2", or a label name from `names` ("liver"); 0 for an empty text. UsageError listing the labels.
[[nodiscard]] int parseLabel(const std::string& text, const std::map<int, std::string>& names);

}  // namespace gatescope
