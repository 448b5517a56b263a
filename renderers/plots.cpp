#include "renderers/plots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/stats/summary.hpp"

namespace gatescope {

namespace {

using Json = nlohmann::ordered_json;

constexpr double kMarginPt = 6.0;
constexpr double kTitleGapPt = 8.0;  // between the notes and the data area
constexpr double kPointRadiusPt = 1.8;
constexpr Rgba kNeutralColor{150, 150, 150, 255};
constexpr Rgba kZeroLineColor{160, 160, 160, 255};

std::string countText(int64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

PlotBox resolveBox(const Canvas& canvas, PlotBox box) {
  if (box.width <= 0.0 || box.height <= 0.0) return {0.0, 0.0, canvas.width(), canvas.height()};
  return box;
}

void requireRoom(const PlotArea& area) {
  if (area.width < 30.0 || area.height < 30.0)
    throw UsageError("plot box too small for its labels: data area " + formatValue(area.width) +
                     " x " + formatValue(area.height) + " pt");
}

// The finite values' range ([0, 1] when there are none).
std::pair<double, double> valueRange(const std::vector<const std::vector<double>*>& series,
                                     std::vector<double> extra = {}) {
  for (const auto* values : series) extra.insert(extra.end(), values->begin(), values->end());
  std::erase_if(extra, [](double v) { return !std::isfinite(v); });
  if (extra.empty()) return {0.0, 1.0};
  const auto [lo, hi] = std::minmax_element(extra.begin(), extra.end());
  return {*lo, *hi};
}

double drawPlotTitle(Canvas& canvas, const PlotBox& box, const std::string& title,
                     const std::vector<std::string>& notes) {
  const double width = box.width - 2.0 * kMarginPt;
  std::vector<std::string> lines = packNoteLines(canvas, notes, width);
  for (auto& line : lines) line = ellipsize(canvas, line, width, kNoteFontPt);
  return drawTitle(canvas, box.x + kMarginPt, box.y + kMarginPt,
                   ellipsize(canvas, title, width, kTitleFontPt, true), lines);
}

// Legend rows at the bottom of the box; returns their height.
double legendHeight(const Canvas& canvas, const PlotBox& box,
                    const std::vector<LegendEntry>& legend) {
  return static_cast<double>(legendRows(canvas, legend, box.width - 2.0 * kMarginPt).size()) *
         kLegendRowHeightPt;
}

void drawLegend(Canvas& canvas, const PlotBox& box, const std::vector<LegendEntry>& legend) {
  const double width = box.width - 2.0 * kMarginPt;
  const auto rows = legendRows(canvas, legend, width);
  double baseline = box.y + box.height - kMarginPt - 0.24 * kNoteFontPt -
                    static_cast<double>(rows.size() - (rows.empty() ? 0 : 1)) * kLegendRowHeightPt;
  for (const auto& row : rows) {
    drawLegendRow(canvas, box.x + kMarginPt, baseline, row, width);
    baseline += kLegendRowHeightPt;
  }
}

// Tukey box: quartiles (numpy's linear interpolation), whiskers to the furthest values within
// 1.5 IQR of the box.
struct BoxStats {
  double q1, median, q3, whisker_lo, whisker_hi;
};

BoxStats boxStats(const std::vector<double>& values) {
  const Summary s = summarize(values);
  BoxStats box{s.q1, s.median, s.q3, s.q3, s.q1};
  for (const double v : values) {
    if (v >= s.q1 - 1.5 * s.iqr) box.whisker_lo = std::min(box.whisker_lo, v);
    if (v <= s.q3 + 1.5 * s.iqr) box.whisker_hi = std::max(box.whisker_hi, v);
  }
  box.whisker_lo = std::min(box.whisker_lo, s.q1);
  box.whisker_hi = std::max(box.whisker_hi, s.q3);
  return box;
}

void drawBoxFill(Canvas& canvas, const PlotArea& area, double centre, double half_width,
                 const BoxStats& box, Rgba color) {
  const double x0 = area.xToCanvas(centre - half_width), x1 = area.xToCanvas(centre + half_width);
  canvas.rectangle(x0, area.yToCanvas(box.q3), x1 - x0,
                   area.yToCanvas(box.q1) - area.yToCanvas(box.q3), lighten(color, 0.8));
}

void drawBoxLines(Canvas& canvas, const PlotArea& area, double centre, double half_width,
                  const BoxStats& box, Rgba color) {
  const double x0 = area.xToCanvas(centre - half_width), x1 = area.xToCanvas(centre + half_width);
  const double xc = area.xToCanvas(centre), cap = (x1 - x0) * 0.25;
  const double top = area.yToCanvas(box.q3), bottom = area.yToCanvas(box.q1);
  canvas.line(xc, top, xc, area.yToCanvas(box.whisker_hi), color, 0.8);
  canvas.line(xc, bottom, xc, area.yToCanvas(box.whisker_lo), color, 0.8);
  canvas.line(xc - cap, area.yToCanvas(box.whisker_hi), xc + cap, area.yToCanvas(box.whisker_hi),
              color, 0.8);
  canvas.line(xc - cap, area.yToCanvas(box.whisker_lo), xc + cap, area.yToCanvas(box.whisker_lo),
              color, 0.8);
  canvas.rectangleOutline(x0, top, x1 - x0, bottom - top, color, 0.8);
  canvas.line(x0, area.yToCanvas(box.median), x1, area.yToCanvas(box.median), color, 1.6);
}

void drawEmptyNote(Canvas& canvas, const PlotArea& area, const std::string& note) {
  canvas.text(area.left + area.width / 2.0, area.top + area.height / 2.0, note, kNoteFontPt,
              kMutedTextColor, TextAlign::Center);
}

// Spreads points of one box sideways (golden-ratio sequence: even, repeatable; the first at 0).
double jitter(size_t index, double half_width) {
  const double fraction = std::fmod(0.5 + static_cast<double>(index) * 0.6180339887, 1.0);
  return (fraction - 0.5) * 1.2 * half_width;
}

}  // namespace

std::string metricDisplayName(const std::string& key) {
  static const std::map<std::string, std::string> names = {
      {"dice", "Dice"},
      {"jaccard", "Jaccard"},
      {"volume_similarity", "volume similarity"},
      {"hd_mm", "HD (mm)"},
      {"assd_mm", "ASSD (mm)"},
      {"masd_mm", "MASD (mm)"},
      {"asd_prediction_to_reference_mm", "ASD prediction→reference (mm)"},
      {"asd_reference_to_prediction_mm", "ASD reference→prediction (mm)"},
      {"reference_volume_mm3", "reference volume (mm³)"},
      {"prediction_volume_mm3", "predicted volume (mm³)"},
      {"tp", "TP (voxels)"},
      {"fp", "FP (voxels)"},
      {"fn", "FN (voxels)"},
      {"tn", "TN (voxels)"}};
  if (const auto it = names.find(key); it != names.end()) return it->second;
  if (key.starts_with("hd") && key.ends_with("_mm"))
    return "HD" + key.substr(2, key.size() - 5) + " (mm)";
  if (key.starts_with("nsd_") && key.ends_with("mm"))
    return "NSD " + key.substr(4, key.size() - 6) + " mm";
  std::string text = key;
  std::replace(text.begin(), text.end(), '_', ' ');
  return text;
}

PlotArea drawPairedMetricPlot(Canvas& canvas, const PairedMetricData& data, PlotBox box) {
  box = resolveBox(canvas, box);
  const double inner_width = box.width - 2.0 * kMarginPt;
  std::vector<std::string> notes = {
      "n = " + countText(static_cast<int64_t>(data.a.size()), "paired case", "paired cases"),
      "Wilcoxon " + formatPValue(data.p_value.value_or(std::nan("")))};
  if (data.n_left_out > 0)
    notes.push_back(std::to_string(data.n_left_out) + " of " + std::to_string(data.n_cases) +
                    " left out (failed, missing or NaN/inf)");
  const double title_bottom =
      drawPlotTitle(canvas, box, metricDisplayName(data.metric) + " – " + data.label.name, notes);

  // Which model each case favours; the line joining its two points takes that model's colour.
  std::vector<Rgba> line_colors;
  int64_t a_better = 0, b_better = 0, equal = 0;
  for (size_t i = 0; i < data.a.size(); ++i) {
    if (!data.higher_is_better || data.a[i] == data.b[i]) {
      line_colors.push_back(kNeutralColor);
      equal += data.higher_is_better.has_value();
      continue;
    }
    const bool a_wins = (data.a[i] > data.b[i]) == *data.higher_is_better;
    (a_wins ? a_better : b_better)++;
    line_colors.push_back(a_wins ? kModelAColor : kModelBColor);
  }
  std::vector<LegendEntry> legend;
  if (data.higher_is_better && !data.a.empty()) {
    const auto entries = [&](const std::string& a, const std::string& b) {
      std::vector<LegendEntry> row = {
          {a + " better (" + std::to_string(a_better) + ")", kModelAColor},
          {b + " better (" + std::to_string(b_better) + ")", kModelBColor}};
      if (equal > 0) row.push_back({"equal (" + std::to_string(equal) + ")", kNeutralColor});
      return row;
    };
    legend = entries(data.model_a_name, data.model_b_name);
    if (legendRowWidth(canvas, legend) > inner_width) legend = entries("A", "B");
  }

  PlotArea area;
  area.x_lo = -0.45, area.x_hi = 1.45;
  area.top = title_bottom + kTitleGapPt;
  const double bottom =
      box.y + box.height - kMarginPt - legendHeight(canvas, box, legend) - xAxisMargin(false);
  const auto [lo, hi] = valueRange({&data.a, &data.b});
  const std::vector<double> ticks = ticksThatFit(canvas, lo, hi, bottom - area.top, false);
  area.y_lo = ticks.front(), area.y_hi = ticks.back();
  area.left = box.x + kMarginPt + yAxisMargin(canvas, ticks, true);
  area.width = box.x + box.width - kMarginPt - area.left;
  // Long model names are shortened to fit their column (B's column ends at the box edge) rather
  // than rotated into the plot's height.
  const double column_width =
      std::min(area.width / (area.x_hi - area.x_lo),
               2.0 * (box.x + box.width - kMarginPt - area.xToCanvas(1.0))) -
      4.0;
  const auto columnLabel = [&](const std::string& name, const std::string& key) {
    const std::string suffix = " (" + key + ")";
    return ellipsize(canvas, name, column_width - canvas.textWidth(suffix, kTickFontPt),
                     kTickFontPt) +
           suffix;
  };
  const Categories categories = {{0.0, columnLabel(data.model_a_name, "A")},
                                 {1.0, columnLabel(data.model_b_name, "B")}};
  area.height =
      bottom + xAxisMargin(false) - categoryAxisMargin(canvas, area, categories, false) - area.top;
  requireRoom(area);

  drawHorizontalGrid(canvas, area, ticks);
  constexpr double kBoxHalfWidth = 0.14;
  if (!data.a.empty()) {
    for (const auto& [values, centre, color] :
         {std::tuple{&data.a, 0.0, kModelAColor}, std::tuple{&data.b, 1.0, kModelBColor}}) {
      const BoxStats stats = boxStats(*values);
      drawBoxFill(canvas, area, centre, kBoxHalfWidth, stats, color);
      drawBoxLines(canvas, area, centre, kBoxHalfWidth, stats, color);
    }
    const double xa = area.xToCanvas(kPairedPointXA), xb = area.xToCanvas(kPairedPointXB);
    for (size_t i = 0; i < data.a.size(); ++i)
      canvas.line(xa, area.yToCanvas(data.a[i]), xb, area.yToCanvas(data.b[i]),
                  withAlpha(line_colors[i], 150), 0.7);
    for (size_t i = 0; i < data.a.size(); ++i) {
      canvas.circle(xa, area.yToCanvas(data.a[i]), kPointRadiusPt, kModelAColor);
      canvas.circle(xb, area.yToCanvas(data.b[i]), kPointRadiusPt, kModelBColor);
    }
  } else {
    drawEmptyNote(canvas, area, "no case has values from both models");
  }
  drawFrame(canvas, area);
  drawYAxis(canvas, area, ticks, metricDisplayName(data.metric));
  drawCategoryAxis(canvas, area, categories, "");
  drawLegend(canvas, box, legend);
  return area;
}

PlotArea drawBlandAltmanPlot(Canvas& canvas, const BlandAltmanData& data, PlotBox box) {
  box = resolveBox(canvas, box);
  std::string counts, left_out;
  std::vector<LegendEntry> legend;
  for (const auto& s : data.models) {
    counts +=
        (counts.empty() ? "n = " : ", ") + std::to_string(s.mean_ml.size()) + " (" + s.model + ")";
    if (s.n_left_out > 0)
      left_out += (left_out.empty() ? "left out: " : ", ") + std::to_string(s.n_left_out) + " (" +
                  s.model + ")";
    legend.push_back({s.model_name + " (" + s.model + ")", modelColor(s.model),
                      s.model == "A" ? LegendMark::Circle : LegendMark::Square});
  }
  const double title_bottom = drawPlotTitle(
      canvas, box, "Volume agreement – " + data.label.name,
      {"Bland–Altman", counts + " of " + std::to_string(data.n_cases) + " cases", left_out});

  // Value labels at the right edge: mean difference and limits of agreement per model.
  struct Annotation {
    double value;
    std::string text;
    Rgba color;
  };
  std::vector<Annotation> annotations;
  std::vector<double> line_values = {0.0};
  for (const auto& s : data.models) {
    if (std::isfinite(s.sd_ml)) {
      annotations.push_back(
          {s.upperLimit(), "+1.96 SD " + formatValue(s.upperLimit()), modelColor(s.model)});
      annotations.push_back(
          {s.lowerLimit(), "-1.96 SD " + formatValue(s.lowerLimit()), modelColor(s.model)});
    }
    if (std::isfinite(s.bias_ml))
      annotations.push_back({s.bias_ml, "mean " + formatValue(s.bias_ml), modelColor(s.model)});
  }
  double annotation_width = 0.0;
  for (const auto& a : annotations) {
    line_values.push_back(a.value);
    annotation_width = std::max(annotation_width, canvas.textWidth(a.text, kNoteFontPt) + 5.0);
  }

  std::vector<const std::vector<double>*> means, differences;
  for (const auto& s : data.models)
    means.push_back(&s.mean_ml), differences.push_back(&s.difference_ml);
  PlotArea area;
  area.top = title_bottom + kTitleGapPt;
  area.height = box.y + box.height - kMarginPt - legendHeight(canvas, box, legend) -
                xAxisMargin(true) - area.top;
  const auto [y_lo, y_hi] = valueRange(differences, line_values);
  const std::vector<double> y_ticks = ticksThatFit(canvas, y_lo, y_hi, area.height, false);
  area.y_lo = y_ticks.front(), area.y_hi = y_ticks.back();
  area.left = box.x + kMarginPt + yAxisMargin(canvas, y_ticks, true);
  const double right = box.x + box.width - kMarginPt;
  const auto [x_lo, x_hi] = valueRange(means);
  std::vector<double> x_ticks =
      ticksThatFit(canvas, x_lo, x_hi, right - annotation_width - area.left, true);
  // The last x tick label is centred on the right edge: keep half of it inside the box.
  const double last_x_label = canvas.textWidth(tickLabels(x_ticks).back(), kTickFontPt) / 2.0;
  area.width = right - std::max(annotation_width, last_x_label) - area.left;
  x_ticks = ticksThatFit(canvas, x_lo, x_hi, area.width, true);
  area.x_lo = x_ticks.front(), area.x_hi = x_ticks.back();
  requireRoom(area);

  drawHorizontalGrid(canvas, area, y_ticks);
  drawVerticalGrid(canvas, area, x_ticks);
  canvas.line(area.left, area.yToCanvas(0.0), area.right(), area.yToCanvas(0.0), kZeroLineColor,
              0.8);
  for (const auto& s : data.models) {
    const Rgba color = withAlpha(modelColor(s.model), 210);
    for (size_t i = 0; i < s.mean_ml.size(); ++i) {
      const double x = area.xToCanvas(s.mean_ml[i]), y = area.yToCanvas(s.difference_ml[i]);
      if (s.model == "A")
        canvas.circle(x, y, kPointRadiusPt, color);
      else
        canvas.rectangle(x - kPointRadiusPt, y - kPointRadiusPt, 2.0 * kPointRadiusPt,
                         2.0 * kPointRadiusPt, color);
    }
  }
  for (const auto& s : data.models) {
    const Rgba color = modelColor(s.model);
    if (std::isfinite(s.bias_ml))
      canvas.line(area.left, area.yToCanvas(s.bias_ml), area.right(), area.yToCanvas(s.bias_ml),
                  color, 1.0);
    if (std::isfinite(s.sd_ml))
      for (const double limit : {s.lowerLimit(), s.upperLimit()})
        canvas.line(area.left, area.yToCanvas(limit), area.right(), area.yToCanvas(limit), color,
                    0.8, 3.0);
  }
  if (std::all_of(data.models.begin(), data.models.end(),
                  [](const auto& s) { return s.mean_ml.empty(); }))
    drawEmptyNote(canvas, area, "no case has both volumes");
  drawFrame(canvas, area);
  const std::string y_label = "prediction − reference (ml)",
                    x_label = "mean of reference and prediction (ml)";
  drawYAxis(canvas, area, y_ticks,
            canvas.textWidth(y_label, kLabelFontPt) <= area.height ? y_label : "difference (ml)");
  drawXAxis(canvas, area, x_ticks,
            canvas.textWidth(x_label, kLabelFontPt) <= area.width ? x_label : "mean volume (ml)");

  std::vector<double> wanted;
  for (const auto& a : annotations) wanted.push_back(area.yToCanvas(a.value));
  const std::vector<double> placed =
      spreadLabels(wanted, kNoteFontPt * 1.1, area.top, area.bottom());
  for (size_t i = 0; i < annotations.size(); ++i) {
    if (std::abs(placed[i] - wanted[i]) > 0.5)
      canvas.line(area.right(), wanted[i], area.right() + 3.0, placed[i],
                  lighten(annotations[i].color, 0.3), 0.5);
    canvas.text(area.right() + 4.0, placed[i] + 0.36 * kNoteFontPt, annotations[i].text,
                kNoteFontPt, annotations[i].color);
  }
  drawLegend(canvas, box, legend);
  return area;
}

PlotArea drawGateStatisticsPlot(Canvas& canvas, const GateStatisticsData& data, PlotBox box) {
  box = resolveBox(canvas, box);
  const bool two_models = data.models.size() > 1;
  int64_t left_out = 0;
  std::vector<const std::vector<double>*> values;
  for (const auto& s : data.series) left_out += s.n_left_out, values.push_back(&s.values);
  std::vector<std::string> notes;
  if (!two_models && !data.series.empty())
    notes.push_back(data.series.front().model_name + " (" + data.series.front().model + ")");
  notes.push_back(countText(data.n_cases, "case", "cases") + " per gate");
  if (left_out > 0)
    notes.push_back(countText(left_out, "value", "values") +
                    " left out (failed, missing or NaN/inf)");
  const double title_bottom = drawPlotTitle(
      canvas, box, "Attention: " + metricDisplayName(data.statistic) + " – " + data.label.name,
      notes);

  // Gates named <prefix><number> ("attentionblock2") are labelled by number, the prefix goes to
  // the axis label: long names would otherwise need rotated labels.
  std::string prefix = data.gates.empty() ? "" : data.gates.front();
  for (const auto& gate : data.gates) {
    size_t common = 0;
    while (common < prefix.size() && common < gate.size() && prefix[common] == gate[common])
      ++common;
    prefix.resize(common);
  }
  while (!prefix.empty() && std::isdigit(static_cast<unsigned char>(prefix.back())))
    prefix.pop_back();
  const bool numbered =
      !prefix.empty() &&
      std::all_of(data.gates.begin(), data.gates.end(), [&](const std::string& g) {
        return g.size() > prefix.size() &&
               std::all_of(g.begin() + static_cast<ptrdiff_t>(prefix.size()), g.end(), ::isdigit);
      });
  Categories categories;
  for (size_t g = 0; g < data.gates.size(); ++g)
    categories.emplace_back(static_cast<double>(g),
                            numbered ? data.gates[g].substr(prefix.size()) : data.gates[g]);
  const bool maps = std::any_of(data.gates.begin(), data.gates.end(), [](const std::string& g) {
    return g.find('@') != std::string::npos;  // attribution maps: method@layer
  });
  const std::string x_label = numbered ? "gate (" + prefix + " N)"
                              : maps   ? "gate or attribution map (positive part / max)"
                                       : "gate";

  std::vector<LegendEntry> legend;
  if (two_models)
    for (const auto& model : data.models)
      for (const auto& s : data.series)
        if (s.model == model) {
          legend.push_back(
              {s.model_name + " (" + model + ")", modelColor(model), LegendMark::Square});
          break;
        }
  const bool has_p = std::any_of(data.p_values.begin(), data.p_values.end(),
                                 [](const auto& p) { return p.has_value(); });

  PlotArea area;
  area.x_lo = -0.55, area.x_hi = static_cast<double>(data.gates.size()) - 0.45;
  area.top = title_bottom + kTitleGapPt + (has_p ? kNoteFontPt + 2.0 : 0.0);
  const double bottom =
      box.y + box.height - kMarginPt - legendHeight(canvas, box, legend) - xAxisMargin(true);
  const auto [lo, hi] = valueRange(values);
  const std::vector<double> ticks = ticksThatFit(canvas, lo, hi, bottom - area.top, false);
  area.y_lo = ticks.front(), area.y_hi = ticks.back();
  area.left = box.x + kMarginPt + yAxisMargin(canvas, ticks, true);
  area.width = box.x + box.width - kMarginPt - area.left;
  area.height =
      bottom + xAxisMargin(true) - categoryAxisMargin(canvas, area, categories, true) - area.top;
  requireRoom(area);

  drawHorizontalGrid(canvas, area, ticks);
  const double half_width = two_models ? 0.15 : 0.22;
  for (size_t g = 0; g < data.gates.size(); ++g)
    for (const auto& s : data.series) {
      if (s.gate != data.gates[g] || s.values.empty()) continue;
      const double centre = static_cast<double>(g) +
                            (two_models ? (s.model == "A" ? -1.0 : 1.0) * kGateModelOffset : 0.0);
      const Rgba color = modelColor(s.model);
      const BoxStats stats = boxStats(s.values);
      drawBoxFill(canvas, area, centre, half_width, stats, color);
      for (size_t i = 0; i < s.values.size(); ++i)
        canvas.circle(area.xToCanvas(centre + jitter(i, half_width)), area.yToCanvas(s.values[i]),
                      1.6, withAlpha(color, 170));
      drawBoxLines(canvas, area, centre, half_width, stats, color);
    }
  for (size_t g = 0; g < data.p_values.size(); ++g)
    if (data.p_values[g])
      canvas.text(area.xToCanvas(static_cast<double>(g)), area.top - 3.0,
                  formatPValue(*data.p_values[g]), kNoteFontPt, kMutedTextColor, TextAlign::Center);
  if (std::all_of(values.begin(), values.end(), [](const auto* v) { return v->empty(); }))
    drawEmptyNote(canvas, area, "no finite values");
  drawFrame(canvas, area);
  drawYAxis(canvas, area, ticks, metricDisplayName(data.statistic));
  drawCategoryAxis(canvas, area, categories, x_label);
  drawLegend(canvas, box, legend);
  return area;
}

std::optional<ReportPlotKind> parseReportPlotKind(const std::string& name) {
  if (name == "paired") return ReportPlotKind::Paired;
  if (name == "bland-altman") return ReportPlotKind::BlandAltman;
  if (name == "attention") return ReportPlotKind::Attention;
  return std::nullopt;
}

Canvas drawReportPlot(const ReportModel& report, const ReportPlotRequest& request) {
  std::string label = request.label;
  if (label.empty()) {
    const std::vector<int> measured = report.measuredLabels();
    if (measured.empty())
      throw FormatError(report.source() + ": the report names no measured labels");
    label = std::to_string(measured.front());
  }
  Canvas canvas(kColumnPlotWidthPt, kColumnPlotHeightPt);
  switch (request.kind) {
    case ReportPlotKind::Paired:
      (void)drawPairedMetricPlot(canvas, pairedMetricData(report, label, request.metric));
      break;
    case ReportPlotKind::BlandAltman:
      (void)drawBlandAltmanPlot(canvas, blandAltmanData(report, label));
      break;
    case ReportPlotKind::Attention: {
      const GateStatisticsData data = gateStatisticsData(report, label, request.statistic);
      const double boxes = static_cast<double>(data.gates.size() * data.models.size());
      canvas = Canvas(std::max(kColumnPlotWidthPt, kColumnPlotWidthPt * boxes / 4.0),
                      kColumnPlotHeightPt);
      (void)drawGateStatisticsPlot(canvas, data);
      break;
    }
  }
  return canvas;
}

namespace {

// Ticks at whole epochs only.
std::vector<double> epochTicks(const Canvas& canvas, double first, double last, double length) {
  std::vector<double> ticks = ticksThatFit(canvas, first, last, length, true);
  std::erase_if(ticks, [](double t) { return t != std::round(t); });
  if (ticks.size() < 2) ticks = {first, last};
  return ticks;
}

struct CurveSeries {
  const TrainingCurve* curve;
  Rgba color;
};

// One plot of per-epoch values: `values(record)` per model, solid; `dashed(record)` (optional)
// per model, dashed.
PlotArea drawEpochPlot(Canvas& canvas, PlotBox box, const std::string& title,
                       const std::vector<std::string>& notes, const std::string& y_label,
                       const std::vector<CurveSeries>& series,
                       const std::function<std::optional<double>(const EpochRecord&)>& values,
                       const std::function<std::optional<double>(const EpochRecord&)>& dashed,
                       const std::vector<LegendEntry>& legend, std::optional<double> y_floor) {
  const double title_bottom = drawPlotTitle(canvas, box, title, notes);
  std::vector<double> all, epochs;
  for (const auto& s : series)
    for (const auto& record : s.curve->epochs) {
      epochs.push_back(record.epoch);
      for (const auto* f : {&values, &dashed})
        if (*f)
          if (const auto v = (*f)(record); v && std::isfinite(*v)) all.push_back(*v);
    }
  const bool has_values = !all.empty();
  if (y_floor) all.push_back(*y_floor);
  PlotArea area;
  area.top = title_bottom + kTitleGapPt;
  area.height = box.y + box.height - kMarginPt - legendHeight(canvas, box, legend) -
                xAxisMargin(true) - area.top;
  const auto [y_lo, y_hi] = valueRange({&all});
  const std::vector<double> y_ticks =
      ticksThatFit(canvas, y_lo, y_hi > y_lo ? y_hi : y_lo + 1.0, area.height, false);
  area.y_lo = y_ticks.front(), area.y_hi = y_ticks.back();
  area.left = box.x + kMarginPt + yAxisMargin(canvas, y_ticks, true);
  area.width = box.x + box.width - kMarginPt - 6.0 - area.left;
  const auto [first, last] = valueRange({&epochs});
  const std::vector<double> x_ticks =
      epochTicks(canvas, first, last > first ? last : first + 1.0, area.width);
  area.x_lo = x_ticks.front(), area.x_hi = x_ticks.back();
  requireRoom(area);
  drawHorizontalGrid(canvas, area, y_ticks);
  for (const auto& s : series) {
    for (const auto* f : {&values, &dashed}) {
      if (!*f) continue;
      const bool solid = f == &values;
      std::optional<std::pair<double, double>> previous;
      for (const auto& record : s.curve->epochs) {
        const auto v = (*f)(record);
        if (!v || !std::isfinite(*v)) {
          previous.reset();
          continue;
        }
        const std::pair<double, double> point{area.xToCanvas(record.epoch), area.yToCanvas(*v)};
        if (previous)
          canvas.line(previous->first, previous->second, point.first, point.second, s.color, 1.2,
                      solid ? 0.0 : 3.0);
        if (solid) canvas.circle(point.first, point.second, kPointRadiusPt, s.color);
        previous = point;
      }
    }
  }
  if (!has_values) drawEmptyNote(canvas, area, "no epoch was validated");
  drawFrame(canvas, area);
  drawYAxis(canvas, area, y_ticks, y_label);
  drawXAxis(canvas, area, x_ticks, "epoch");
  drawLegend(canvas, box, legend);
  return area;
}

}  // namespace

TrainingPlotAreas drawTrainingCurves(Canvas& canvas, const TrainingLog& log, PlotBox loss_box,
                                     PlotBox dice_box) {
  std::vector<CurveSeries> series;
  for (size_t m = 0; m < log.models.size() && m < 2; ++m)
    series.push_back({&log.models[m], modelColor(m == 0 ? "A" : "B")});
  std::vector<LegendEntry> loss_legend, dice_legend;
  for (const auto& s : series) {
    loss_legend.push_back({s.curve->name + " training", s.color, LegendMark::Circle});
    loss_legend.push_back({s.curve->name + " validation (dashed)", s.color, LegendMark::Line});
    dice_legend.push_back({s.curve->name, s.color, LegendMark::Circle});
  }
  // Classifiers' logs have a validation accuracy where segmentation logs have a Dice.
  bool classifier = false;
  for (const auto& s : series)
    for (const EpochRecord& r : s.curve->epochs) classifier = classifier || r.validation_accuracy;
  const std::string cases = fmt::format("{} training, {} validation {}", log.training_cases,
                                        log.validation_cases, classifier ? "images" : "cases");
  // The learning rates train.json records (from the first model: a pair shares its schedule).
  std::string loss_note = classifier ? "cross-entropy of the heads" : "Dice + cross-entropy";
  if (!series.empty()) {
    const auto& epochs = series.front().curve->epochs;
    const double first = epochs.front().learning_rate, last = epochs.back().learning_rate;
    if (std::isfinite(first) && std::isfinite(last))
      loss_note += first == last ? fmt::format(", learning rate {:g}", first)
                                 : fmt::format(", learning rate {:g} to {:g}", first, last);
  }
  TrainingPlotAreas areas;
  areas.loss = drawEpochPlot(
      canvas, loss_box, "Loss per epoch", {loss_note, cases}, "loss", series,
      [](const EpochRecord& r) { return std::optional<double>(r.loss); },
      [](const EpochRecord& r) { return r.validation_loss; }, loss_legend, 0.0);
  if (classifier)
    areas.dice = drawEpochPlot(
        canvas, dice_box, "Validation accuracy per epoch",
        {"the heads' probabilities aggregated", "validation images whole"}, "accuracy", series,
        [](const EpochRecord& r) { return r.validation_accuracy; }, {}, dice_legend, 0.0);
  else
    areas.dice = drawEpochPlot(
        canvas, dice_box, "Validation Dice per epoch",
        {"mean over the foreground labels", "validation cases whole, argmax"}, "Dice", series,
        [](const EpochRecord& r) { return r.validation_dice; }, {}, dice_legend, 0.0);
  return areas;
}

Canvas drawTrainingPlot(const TrainingLog& log) {
  Canvas canvas(2.0 * kColumnPlotWidthPt, kColumnPlotHeightPt);
  (void)drawTrainingCurves(canvas, log, {0.0, 0.0, kColumnPlotWidthPt, kColumnPlotHeightPt},
                           {kColumnPlotWidthPt, 0.0, kColumnPlotWidthPt, kColumnPlotHeightPt});
  return canvas;
}

}  // namespace gatescope
