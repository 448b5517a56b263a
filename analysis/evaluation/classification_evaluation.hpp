#pragma once

// gatescope evaluate for classifiers (docs/classification.md): one or two classifiers over a
// classification dataset (a folder per class or a CSV), per image the true class, each model's
// prediction, probabilities and the attention statistics of its gates against the image's mask or
// box; per model the metrics; for two models McNemar's test and bootstrap intervals of the
// differences in accuracy and macro F1. The same journal, resume and output files as the
// segmentation evaluation.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/evaluation/evaluator.hpp"

namespace gatescope {

// Whether `model` (a manifest) names a classifier: evaluate then takes this path.
[[nodiscard]] bool isClassifierModelFile(const std::filesystem::path& model);

// A classification report's "summary" (metrics and gate attention per model) and, with two models,
// its "comparison", from its cases; report["models"]["A"]["classes"] gives the class count.
void summarizeClassificationReport(nlohmann::ordered_json& report, const PairedOptions& paired);

// FormatError naming `source` when `report` is not a classification report gatescope can read
// back (schema, task, models A and B, per image an id, true class, status and per model record).
void validateClassificationReport(const nlohmann::ordered_json& report, const std::string& source);

// cases.csv of a classification report: per image the true class and each model's prediction and
// probability of the true class.
[[nodiscard]] std::string classificationCsv(const nlohmann::ordered_json& report);

// Options as for evaluate(); the split is the CSV's split column ("auto" and "all": every image).
[[nodiscard]] EvaluationResult evaluateClassification(const EvaluationOptions& options,
                                                      Registry& registry,
                                                      const EvaluationCallback& progress = {});

}  // namespace gatescope
