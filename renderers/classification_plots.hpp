#pragma once

// Plots of a classification report (docs/classification.md), for `gatescope render plot`: the
// confusion matrices of the models side by side, their per-class precision, recall and F1, and
// their reliability diagrams. Drawn from the report's summary alone, onto a Canvas the caller
// writes as PNG, PDF or SVG.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "renderers/canvas.hpp"
#include "renderers/plot_axes.hpp"

namespace gatescope {

enum class ClassificationPlotKind { Confusion, ConfusionNormalised, PerClass, Reliability };
// "confusion", "confusion-normalised", "per-class", "reliability"; std::nullopt otherwise.
[[nodiscard]] std::optional<ClassificationPlotKind> parseClassificationPlotKind(
    const std::string& name);

// Where each model's panel put its data (tests): the matrix or plot area, by model key.
struct ClassificationPlotLayout {
  std::vector<std::pair<std::string, PlotArea>> panels;
};

// Confusion: per model a matrix, rows the true class and columns the predicted one, each cell
// shaded by its share of its row and labelled with its count (normalised: with the share).
// Per class: grouped bars of precision, recall and F1 per class, A and B side by side.
// Reliability: per model the accuracy of each confidence bin at its mean confidence (points
// sized by the bin's share of the images), the diagonal of perfect calibration, the ECE in the
// legend. FormatError naming `source` when the summary lacks what the plot needs.
[[nodiscard]] Canvas drawClassificationPlot(const nlohmann::ordered_json& report,
                                            ClassificationPlotKind kind, const std::string& source,
                                            ClassificationPlotLayout* layout = nullptr);

}  // namespace gatescope
