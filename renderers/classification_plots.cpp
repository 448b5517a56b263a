#include "renderers/classification_plots.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"

namespace gatescope {

using Json = nlohmann::ordered_json;

namespace {

constexpr double kMarginPt = 8.0;

struct ModelSummary {
  std::string key;    // "A", "B"
  std::string title;  // "A: gated (sononet_grid_attention)"
  const Json* summary = nullptr;
};

std::vector<ModelSummary> modelsOf(const Json& report, const std::string& source) {
  std::vector<ModelSummary> models;
  if (!report.contains("summary") || !report["summary"].is_object())
    throw FormatError(source + ": the report has no summary");
  for (const auto& [key, summary] : report["summary"].items()) {
    if (!summary.contains("confusion_matrix")) continue;  // a model without a classified image
    const Json& model = report["models"][key];
    models.push_back(
        {key,
         fmt::format("{}: {} ({})", key, model.value("name", key), model.value("architecture", "")),
         &summary});
  }
  if (models.empty()) throw FormatError(source + ": no model of the report classified an image");
  return models;
}

std::vector<std::string> classNames(const Json& report, size_t classes) {
  std::vector<std::string> names;
  const Json none = Json::array();
  const Json& listed = report.contains("dataset") ? report["dataset"].value("classes", none) : none;
  for (size_t c = 0; c < classes; ++c)
    names.push_back(c < listed.size() && listed[c].is_string() ? listed[c].get<std::string>()
                                                               : std::to_string(c));
  return names;
}

double valueOr(const Json& v, double fallback) {
  return v.is_number() ? v.get<double>() : fallback;
}

// One model's confusion matrix in the box (x, y, w, h).
PlotArea drawConfusion(Canvas& canvas, const ModelSummary& model,
                       const std::vector<std::string>& names, bool normalised, double x, double y,
                       double w, double h) {
  const Json& matrix = (*model.summary)["confusion_matrix"];
  const size_t k = names.size();
  double top =
      drawTitle(canvas, x + kMarginPt, y + kMarginPt, model.title,
                {normalised ? "share of each true class" : "images; shade: share of the row"});
  double label_width = 0;
  for (const auto& name : names)
    label_width = std::max(label_width, canvas.textWidth(name, kTickFontPt));
  label_width = std::min(label_width, 0.3 * w);
  const double left = x + kMarginPt + kLabelFontPt + 4.0 + label_width + 4.0;
  const double bottom_room = std::min(label_width, 0.3 * h) * 0.6 + kLabelFontPt + 12.0;
  const double side =
      std::max(10.0, std::min(x + w - kMarginPt - left, y + h - bottom_room - top - 4.0));
  PlotArea area{
      left, top + 4.0, side, side, 0.0, static_cast<double>(k), 0.0, static_cast<double>(k)};
  const double cell = side / static_cast<double>(k);
  const Rgba color = modelColor(model.key);
  for (size_t r = 0; r < k; ++r) {
    double row_total = 0;
    for (size_t c = 0; c < k; ++c) row_total += valueOr(matrix[r][c], 0);
    for (size_t c = 0; c < k; ++c) {
      const double count = valueOr(matrix[r][c], 0);
      const double share = row_total > 0 ? count / row_total : 0.0;
      const double cx = area.left + cell * static_cast<double>(c),
                   cy = area.top + cell * static_cast<double>(r);
      canvas.rectangle(cx, cy, cell, cell, lighten(color, 1.0 - 0.85 * share));
      const std::string text = normalised ? formatTick(share, 0.01) : fmt::format("{:g}", count);
      const double size = std::min(kTickFontPt, 0.45 * cell);
      canvas.text(cx + 0.5 * cell, cy + 0.5 * cell + 0.35 * size, text, size,
                  share > 0.55 ? Rgba{255, 255, 255, 255} : kAxisColor, TextAlign::Center);
    }
    const double cy = area.top + cell * (static_cast<double>(r) + 0.5);
    canvas.text(area.left - 4.0, cy + 0.35 * kTickFontPt,
                ellipsize(canvas, names[r], label_width, kTickFontPt), kTickFontPt, kAxisColor,
                TextAlign::Right);
  }
  canvas.rectangleOutline(area.left, area.top, side, side, kAxisColor, 0.8);
  for (size_t c = 0; c < k; ++c) {
    const double cx = area.left + cell * (static_cast<double>(c) + 0.5);
    canvas.text(cx + 0.35 * kTickFontPt, area.bottom() + 4.0,
                ellipsize(canvas, names[c], label_width, kTickFontPt), kTickFontPt, kAxisColor,
                TextAlign::Right, 60.0);
  }
  canvas.text(area.left + 0.5 * side, y + h - 4.0, "predicted class", kLabelFontPt, kAxisColor,
              TextAlign::Center);
  canvas.text(x + kMarginPt + kLabelFontPt, area.top + 0.5 * side, "true class", kLabelFontPt,
              kAxisColor, TextAlign::Center, 90.0);
  return area;
}

// Precision, recall and F1 per class, the models' bars side by side, in the box (x, y, w, h).
PlotArea drawPerClassPanel(Canvas& canvas, const std::vector<ModelSummary>& models,
                           const std::vector<std::string>& names, const std::string& score,
                           double x, double y, double w, double h) {
  const double top = drawTitle(
      canvas, x + kMarginPt, y + kMarginPt,
      score == "f1" ? "F1" : (score == "precision" ? "Precision" : "Recall"), {"per class"});
  const std::vector<double> ticks = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
  PlotArea area{0, top + 4.0, 0, 0, -0.5, static_cast<double>(names.size()) - 0.5, 0.0, 1.0};
  area.left = x + kMarginPt + yAxisMargin(canvas, ticks, false);
  area.width = x + w - kMarginPt - area.left;
  Categories categories;
  for (size_t c = 0; c < names.size(); ++c)
    categories.emplace_back(static_cast<double>(c), names[c]);
  area.height = y + h - area.top - categoryAxisMargin(canvas, area, categories, false) - 4.0;
  drawHorizontalGrid(canvas, area, ticks);
  const double group = area.width / static_cast<double>(names.size());
  const double bar = 0.8 * group / static_cast<double>(models.size());
  for (size_t m = 0; m < models.size(); ++m) {
    const Json& per_class = (*models[m].summary)["per_class"];
    for (size_t c = 0; c < names.size() && c < per_class.size(); ++c) {
      const double v = valueOr(per_class[c][score], 0.0);
      const double left =
          area.xToCanvas(static_cast<double>(c)) - 0.4 * group + bar * static_cast<double>(m);
      canvas.rectangle(left, area.yToCanvas(v), bar, area.bottom() - area.yToCanvas(v),
                       modelColor(models[m].key));
    }
  }
  drawFrame(canvas, area);
  drawYAxis(canvas, area, ticks, "");
  drawCategoryAxis(canvas, area, categories, "");
  return area;
}

// Reliability diagram of every model in the box.
PlotArea drawReliability(Canvas& canvas, const std::vector<ModelSummary>& models, double x,
                         double y, double w, double h) {
  const double top = drawTitle(canvas, x + kMarginPt, y + kMarginPt, "Reliability",
                               {"ten confidence bins; point area: share of images"});
  const std::vector<double> ticks = {0.0, 0.2, 0.4, 0.6, 0.8, 1.0};
  std::vector<LegendEntry> legend;
  for (const auto& m : models) {
    const Json& calibration = (*m.summary)["calibration"];
    legend.push_back(
        {fmt::format("{} ECE {}", m.title, formatValue(valueOr(calibration["ece"], NAN), 2)),
         modelColor(m.key), LegendMark::Circle});
  }
  const double legend_height = kLegendRowHeightPt * static_cast<double>(legend.size()) + 4.0;
  PlotArea area{0, top + 4.0, 0, 0, 0.0, 1.0, 0.0, 1.0};
  area.left = x + kMarginPt + yAxisMargin(canvas, ticks, true);
  area.width = x + w - kMarginPt - area.left;
  area.height = y + h - area.top - xAxisMargin(true) - legend_height;
  drawHorizontalGrid(canvas, area, ticks);
  drawVerticalGrid(canvas, area, ticks);
  canvas.line(area.xToCanvas(0), area.yToCanvas(0), area.xToCanvas(1), area.yToCanvas(1),
              kMutedTextColor, 0.8, 3.0);
  for (const auto& m : models) {
    const Json& calibration = (*m.summary)["calibration"];
    const Json& counts = calibration["count"];
    double total = 0;
    for (const auto& c : counts) total += valueOr(c, 0);
    std::vector<std::pair<double, double>> points;
    for (size_t b = 0; b < counts.size(); ++b) {
      const double n = valueOr(counts[b], 0);
      if (n <= 0) continue;
      const double px = area.xToCanvas(valueOr(calibration["confidence"][b], 0)),
                   py = area.yToCanvas(valueOr(calibration["accuracy"][b], 0));
      points.emplace_back(px, py);
      canvas.circle(px, py, 1.5 + 6.0 * std::sqrt(n / std::max(total, 1.0)), modelColor(m.key));
    }
    if (points.size() > 1) canvas.polyline(points, modelColor(m.key), 1.0);
  }
  drawFrame(canvas, area);
  drawYAxis(canvas, area, ticks, "accuracy");
  drawXAxis(canvas, area, ticks, "probability of the predicted class");
  double baseline = area.bottom() + xAxisMargin(true) + kLegendRowHeightPt;
  for (const auto& entry : legend) {
    drawLegendRow(canvas, area.left, baseline, {entry}, area.width);
    baseline += kLegendRowHeightPt;
  }
  return area;
}

}  // namespace

std::optional<ClassificationPlotKind> parseClassificationPlotKind(const std::string& name) {
  if (name == "confusion") return ClassificationPlotKind::Confusion;
  if (name == "confusion-normalised") return ClassificationPlotKind::ConfusionNormalised;
  if (name == "per-class") return ClassificationPlotKind::PerClass;
  if (name == "reliability") return ClassificationPlotKind::Reliability;
  return std::nullopt;
}

Canvas drawClassificationPlot(const Json& report, ClassificationPlotKind kind,
                              const std::string& source, ClassificationPlotLayout* layout) {
  const std::vector<ModelSummary> models = modelsOf(report, source);
  const size_t classes = (*models.front().summary)["confusion_matrix"].size();
  const std::vector<std::string> names = classNames(report, classes);
  const auto record = [&](const std::string& key, const PlotArea& area) {
    if (layout) layout->panels.emplace_back(key, area);
  };
  if (kind == ClassificationPlotKind::Reliability) {
    for (const auto& m : models)
      if (!m.summary->contains("calibration"))
        throw FormatError(source + ": model " + m.key + " has no calibration in its summary");
    Canvas canvas(kColumnPlotWidthPt, kColumnPlotHeightPt + 30.0);
    record("all", drawReliability(canvas, models, 0, 0, canvas.width(), canvas.height()));
    return canvas;
  }
  if (kind == ClassificationPlotKind::PerClass) {
    Canvas canvas(3.0 * kColumnPlotWidthPt * 0.8, kColumnPlotHeightPt);
    const double w = canvas.width() / 3.0;
    std::vector<LegendEntry> legend;
    for (const auto& m : models) legend.push_back({m.title, modelColor(m.key), LegendMark::Square});
    const double legend_height = kLegendRowHeightPt + 4.0;
    int panel = 0;
    for (const char* score : {"precision", "recall", "f1"}) {
      record(score, drawPerClassPanel(canvas, models, names, score, w * panel, 0, w,
                                      canvas.height() - legend_height));
      ++panel;
    }
    drawLegendRow(canvas, kMarginPt, canvas.height() - 6.0, legend, canvas.width() - 2 * kMarginPt);
    return canvas;
  }
  const bool normalised = kind == ClassificationPlotKind::ConfusionNormalised;
  const double w = kColumnPlotWidthPt, h = kColumnPlotWidthPt;
  Canvas canvas(w * static_cast<double>(models.size()), h);
  for (size_t m = 0; m < models.size(); ++m)
    record(models[m].key, drawConfusion(canvas, models[m], names, normalised,
                                        w * static_cast<double>(m), 0, w, h));
  return canvas;
}

}  // namespace gatescope
