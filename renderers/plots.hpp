#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analysis/evaluation/report_series.hpp"
#include "analysis/models/training_log.hpp"
#include "renderers/canvas.hpp"
#include "renderers/plot_axes.hpp"

namespace gatescope {

// Plots of an evaluation report: the data comes from analysis/evaluation/report_series (what a
// plot shows, taken from a ReportModel), drawn onto a Canvas that the caller writes as PNG, PDF or
// SVG. The figure says how many values were left out.

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

// --- the report plot recipe: what `gatescope render plot` writes and the workbench shows ---

enum class ReportPlotKind { Paired, BlandAltman, Attention };
// "paired", "bland-altman", "attention"; std::nullopt for anything else.
[[nodiscard]] std::optional<ReportPlotKind> parseReportPlotKind(const std::string& name);

struct ReportPlotRequest {
  ReportPlotKind kind = ReportPlotKind::Paired;
  std::string label;                            // key or name; empty: the first measured label
  std::string metric = "dice";                  // paired
  std::string statistic = "mass_in_reference";  // attention
};

// The plot on a paper column's canvas (wider for many gates: a column per four boxes). FormatError
// when no label is given and the report names no measured labels; the extractors' UsageErrors.
[[nodiscard]] Canvas drawReportPlot(const ReportModel& report, const ReportPlotRequest& request);

// --- learning curves of `gatescope train` (train.json) ---

// Per model (the first in model A's colour, the second in B's): its training loss per epoch
// (solid, points at the epochs) and validation loss (dashed) in `loss_box`; its validation Dice per
// epoch in `dice_box` - a classifier's validation accuracy instead - (a note says so when no epoch
// was validated). Returns the two data areas.
struct TrainingPlotAreas {
  PlotArea loss, dice;
};
TrainingPlotAreas drawTrainingCurves(Canvas& canvas, const TrainingLog& log, PlotBox loss_box,
                                     PlotBox dice_box);
// The two plots side by side on a canvas two paper columns wide.
[[nodiscard]] Canvas drawTrainingPlot(const TrainingLog& log);

}  // namespace gatescope
