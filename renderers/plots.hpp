#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "renderers/canvas.hpp"
#include "renderers/plot_axes.hpp"

namespace gatescope {

// Plots of an evaluation report (analysis/evaluation, docs/report.schema.json): plain data
// extracted from the report (the workbench draws or tabulates the same data), then drawn onto a
// Canvas that the caller writes as PNG, PDF or SVG. Missing, failed, NaN and infinite values are
// left out and counted; the figure says how many.
//
// The extractors take the report and its file name (for messages). `label` is a label value
// ("1") or its name in report["dataset"]["labels"] ("liver"). Unknown labels, metrics, gates or
// statistics throw UsageError naming the file and listing what the report has.

struct ReportLabel {
  std::string key;   // "1"
  std::string name;  // "liver" (the key when the dataset names no labels)
};

// One metric of one label for models A and B, case by case.
struct PairedMetricData {
  std::string metric;  // report key, e.g. "dice", "hd95_mm"
  ReportLabel label;
  std::string model_a_name, model_b_name;
  std::optional<bool> higher_is_better;  // none for counts and volumes
  std::vector<std::string> case_ids;     // cases where both models have a finite value
  std::vector<double> a, b;              // aligned with case_ids
  int64_t n_cases = 0;                   // cases in the report
  int64_t n_left_out = 0;                // cases without a finite value from both models
  std::optional<double> p_value;         // Wilcoxon signed-rank p, report["comparison"]
};

// Volumes of one label for one model, in ml (mm3 / 1000).
struct BlandAltmanSeries {
  std::string model;  // "A", "B"
  std::string model_name;
  std::vector<std::string> case_ids;
  std::vector<double> mean_ml;        // (reference + prediction) / 2
  std::vector<double> difference_ml;  // prediction - reference
  int64_t n_left_out = 0;
  double bias_ml = std::numeric_limits<double>::quiet_NaN();  // mean difference
  double sd_ml = std::numeric_limits<double>::quiet_NaN();  // sample SD (n - 1) of the differences

  [[nodiscard]] double lowerLimit() const { return bias_ml - 1.96 * sd_ml; }
  [[nodiscard]] double upperLimit() const { return bias_ml + 1.96 * sd_ml; }
};

struct BlandAltmanData {
  ReportLabel label;
  int64_t n_cases = 0;
  std::vector<BlandAltmanSeries> models;  // A, then B when the report has it
};

// One attention statistic of one label at one gate of one model, case by case.
struct GateStatisticSeries {
  std::string gate;
  std::string model;  // "A", "B"
  std::string model_name;
  std::vector<std::string> case_ids;
  std::vector<double> values;
  int64_t n_left_out = 0;  // cases without a finite value (failed, gate or label missing, NaN/inf)
};

struct GateStatisticsData {
  std::string statistic;  // e.g. "mass_in_reference"
  ReportLabel label;
  std::optional<bool> higher_is_better;
  std::vector<std::string> gates;               // report order
  std::vector<std::string> models;              // the models with gates: "A", "B" or both
  std::vector<GateStatisticSeries> series;      // gate by gate, models in `models` order
  std::vector<std::optional<double>> p_values;  // per gate: Wilcoxon p from attention_comparison
  int64_t n_cases = 0;
};

[[nodiscard]] PairedMetricData pairedMetricData(const nlohmann::ordered_json& report,
                                                const std::string& report_name,
                                                const std::string& label,
                                                const std::string& metric);
[[nodiscard]] BlandAltmanData blandAltmanData(const nlohmann::ordered_json& report,
                                              const std::string& report_name,
                                              const std::string& label);
// `gates` empty: every gate of the report.
[[nodiscard]] GateStatisticsData gateStatisticsData(
    const nlohmann::ordered_json& report, const std::string& report_name, const std::string& label,
    const std::string& statistic = "mass_in_reference", const std::vector<std::string>& gates = {});

// "Dice", "HD95 (mm)", "NSD 1 mm", "mass in reference": axis labels for report keys.
[[nodiscard]] std::string metricDisplayName(const std::string& key);

// Where on the canvas a plot goes; a zero size means the whole canvas. The plots are laid out for
// a paper column (kColumnPlotWidthPt x kColumnPlotHeightPt) and stay legible down to about 2/3 of
// it.
struct PlotBox {
  double x = 0, y = 0, width = 0, height = 0;
};

// Paired plot: A at category x = 0 and B at x = 1, each with a box (median, quartiles, whiskers
// at 1.5 IQR); every case is a point (A at kPairedPointXA, B at kPairedPointXB) joined to its
// partner by a line in the colour of the better model (gray when equal or without direction).
inline constexpr double kPairedPointXA = 0.28;
inline constexpr double kPairedPointXB = 0.72;
// Each draw function returns the data area it used (for picking, and for tests).
PlotArea drawPairedMetricPlot(Canvas& canvas, const PairedMetricData& data, PlotBox box = {});
// Bland-Altman: x = mean volume, y = prediction - reference (ml); per model its points (A circles,
// B squares), mean difference (solid) and limits of agreement at +-1.96 SD (dashed), with their
// values at the right edge.
PlotArea drawBlandAltmanPlot(Canvas& canvas, const BlandAltmanData& data, PlotBox box = {});
// Per gate (category x = gate index) a box and the cases' points for each model with gates
// (offset by kGateModelOffset to the left for A and right for B when both have gates).
inline constexpr double kGateModelOffset = 0.2;
PlotArea drawGateStatisticsPlot(Canvas& canvas, const GateStatisticsData& data, PlotBox box = {});

}  // namespace gatescope
