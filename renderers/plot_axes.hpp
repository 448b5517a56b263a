#pragma once

#include <string>
#include <utility>
#include <vector>

#include "renderers/canvas.hpp"
#include "renderers/colormap.hpp"

namespace gatescope {

// Shared look of plots and figures: model colours, font sizes and axis drawing in points, sized
// for a paper column (about 3.5 x 3 inch).

// One colour per model wherever a model is drawn - contours, surfaces, tables and plots - and one
// for the reference: model A magenta, model B sky blue, the reference yellow. They stay apart on a
// gray image, under a jet attention overlay and on a white plot, and differ in lightness for
// colour-blind readers.
inline constexpr Rgba kReferenceColor{255, 255, 0, 255};
inline constexpr Rgba kModelAColor{225, 0, 225, 255};
inline constexpr Rgba kModelBColor{0, 170, 235, 255};
inline constexpr Rgba kAxisColor{40, 40, 40, 255};
inline constexpr Rgba kGridColor{225, 225, 225, 255};
inline constexpr Rgba kMutedTextColor{90, 90, 90, 255};

inline constexpr double kTitleFontPt = 10.0;
inline constexpr double kLabelFontPt = 9.0;
inline constexpr double kTickFontPt = 8.0;
inline constexpr double kNoteFontPt = 8.0;

// A paper column plot: 3.5 x 3 inch.
inline constexpr double kColumnPlotWidthPt = 252.0;
inline constexpr double kColumnPlotHeightPt = 216.0;

// The colour of model "A" or "B" (others: gray).
[[nodiscard]] Rgba modelColor(const std::string& model_key);
// `color` blended towards white: amount 0 keeps it, 1 gives white (box fills, light lines).
[[nodiscard]] Rgba lighten(Rgba color, double amount);
[[nodiscard]] Rgba withAlpha(Rgba color, uint8_t alpha);

// Tick positions at a 1-2-5 step (…, 0.1, 0.2, 0.5, 1, 2, 5, 10, …): the first tick <= lo, the
// last >= hi (up to rounding), with the step whose tick count is closest to `target_count` (ties:
// the smaller step).
// lo == hi is widened by 10 % of |lo| (1 when lo is 0). Throws UsageError for non-finite bounds.
[[nodiscard]] std::vector<double> niceTicks(double lo, double hi, int target_count = 5);
// niceTicks over [lo, hi] with the most ticks (at most `target_count`) whose labels keep clear of
// each other along an axis `length_pt` long (horizontal: label widths; vertical: label heights).
[[nodiscard]] std::vector<double> ticksThatFit(const Canvas& canvas, double lo, double hi,
                                               double length_pt, bool horizontal,
                                               int target_count = 5);
// A tick value with as many decimals as the tick step needs ("0.2", "15", "-0.05"; never "-0").
[[nodiscard]] std::string formatTick(double value, double step);
// Labels for evenly spaced ticks (the step is taken from the first two).
[[nodiscard]] std::vector<std::string> tickLabels(const std::vector<double>& ticks);
// A value for annotations with `significant` digits ("1.23", "-0.0042", "1.2e+05").
[[nodiscard]] std::string formatValue(double value, int significant = 3);
// A p value as papers write it: "p = 0.047", "p = 0.0012", "p < 0.001"; "p = n/a" for NaN.
[[nodiscard]] std::string formatPValue(double p);

// Where a plot's data area lies on the canvas and which values it shows; maps values to points.
struct PlotArea {
  double left = 0, top = 0, width = 0, height = 0;
  double x_lo = 0, x_hi = 1, y_lo = 0, y_hi = 1;

  [[nodiscard]] double right() const { return left + width; }
  [[nodiscard]] double bottom() const { return top + height; }
  [[nodiscard]] double xToCanvas(double x) const {
    return left + (x - x_lo) / (x_hi - x_lo) * width;
  }
  [[nodiscard]] double yToCanvas(double y) const {
    return bottom() - (y - y_lo) / (y_hi - y_lo) * height;
  }
};

// Room left of the data area for the y tick labels and the rotated y label.
[[nodiscard]] double yAxisMargin(const Canvas& canvas, const std::vector<double>& ticks,
                                 bool has_label);
// Room below the data area for one row of tick labels and the x label.
[[nodiscard]] double xAxisMargin(bool has_label);

// Left and bottom axis lines (open frame, as most journals print plots); `closed` adds top and
// right.
void drawFrame(Canvas& canvas, const PlotArea& area, bool closed = false);
// Light grid lines at the ticks, drawn before the data.
void drawHorizontalGrid(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks);
void drawVerticalGrid(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks);
// Ticks outside the frame, their labels and the axis label (y label rotated, placed clear of the
// widest tick label, ellipsized to the axis length).
void drawYAxis(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks,
               const std::string& label);
void drawXAxis(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks,
               const std::string& label);
// Named categories at x positions (data units), without ticks. Labels wider than the space between
// neighbouring categories are rotated by 30 degrees. categoryAxisMargin is the room below the
// frame that drawCategoryAxis takes (it depends on the area's width and x range only).
using Categories = std::vector<std::pair<double, std::string>>;
[[nodiscard]] double categoryAxisMargin(const Canvas& canvas, const PlotArea& area,
                                        const Categories& categories, bool has_label);
void drawCategoryAxis(Canvas& canvas, const PlotArea& area, const Categories& categories,
                      const std::string& label);

// Title (bold) and muted note lines below it, left-aligned at x with the title's top at y; returns
// the y below them.
double drawTitle(Canvas& canvas, double x, double y, const std::string& title,
                 const std::vector<std::string>& notes = {});
// `parts` joined by "; " into as few lines as fit `width` at the note font size.
[[nodiscard]] std::vector<std::string> packNoteLines(const Canvas& canvas,
                                                     const std::vector<std::string>& parts,
                                                     double width);

// `text` cut at the end with "…" so that it fits `width` at `size_pt` (unchanged when it fits).
[[nodiscard]] std::string ellipsize(const Canvas& canvas, const std::string& text, double width,
                                    double size_pt, bool bold = false);

// One row of legend entries: a mark in its colour, then the text.
enum class LegendMark { Line, Circle, Square };
struct LegendEntry {
  std::string text;
  Rgba color;
  LegendMark mark = LegendMark::Line;
};
inline constexpr double kLegendRowHeightPt = kNoteFontPt + 3.0;
[[nodiscard]] double legendRowWidth(const Canvas& canvas, const std::vector<LegendEntry>& entries);
// Entries broken into rows no wider than `max_width` (an entry wider on its own gets a row).
[[nodiscard]] std::vector<std::vector<LegendEntry>> legendRows(
    const Canvas& canvas, const std::vector<LegendEntry>& entries, double max_width);
// One row with its text baseline at `baseline`; texts longer than `max_width` (> 0) allows are
// ellipsized.
void drawLegendRow(Canvas& canvas, double x, double baseline, std::vector<LegendEntry> entries,
                   double max_width = 0.0);

// Positions for labels wanted at `wanted` (ascending or not) that keep at least `gap` between
// neighbours and stay within [lo, hi] where possible, moving each as little as it can.
[[nodiscard]] std::vector<double> spreadLabels(const std::vector<double>& wanted, double gap,
                                               double lo, double hi);

// A colour bar for `map` over [lo, hi] with ticks and a label: vertical (low at the bottom, labels
// to the right) or horizontal (low at the left, labels below). The box is the bar itself.
void drawColorbar(Canvas& canvas, double x, double y, double w, double h, ColormapName map,
                  double lo, double hi, const std::string& label, bool vertical);

}  // namespace gatescope
