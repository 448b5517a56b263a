#include "renderers/figures.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "renderers/scene_recipes.hpp"

namespace gatescope {

namespace {

constexpr double kMargin = 8.0;
constexpr double kGap = 4.0;
constexpr double kTitleSize = 11.0;
constexpr double kHeadingSize = 9.0;
constexpr double kCaptionSize = 7.5;
constexpr double kColorbarWidth = 10.0;
constexpr double kColorbarColumn = 62.0;  // bar, ticks, tick labels and the rotated label
constexpr double kMinColorbarSlot = 80.0;

// A round length (1, 2 or 5 times a power of ten) near `target`.
double roundLength(double target) {
  const double power = std::pow(10.0, std::floor(std::log10(target)));
  for (double step : {5.0, 2.0, 1.0})
    if (step * power <= target) return step * power;
  return power;
}

double physicalWidth(const FigurePanel& panel) {
  return panel.picture.width * panel.pixel_mm;
}

void drawScaleBar(Canvas& canvas, const FigurePanel& panel, double x, double y, double w, double h,
                  double length_mm) {
  const double panel_mm = panel.picture.width * panel.pixel_mm;
  if (length_mm == 0.0) length_mm = roundLength(panel_mm / 4.0);
  const double bar = w * length_mm / panel_mm;
  const double right = x + w - 5.0, bottom = y + h - 5.0;
  const std::string text = fmt::format("{:g} mm", length_mm);
  canvas.rectangle(right - bar - 0.5, bottom - 2.5, bar + 1.0, 3.0, {0, 0, 0, 255});
  canvas.line(right - bar, bottom - 1.0, right, bottom - 1.0, {255, 255, 255, 255}, 1.5);
  canvas.text(right - bar / 2.0 + 0.4, bottom - 4.6, text, 6.5, {0, 0, 0, 255}, TextAlign::Center);
  canvas.text(right - bar / 2.0, bottom - 5.0, text, 6.5, {255, 255, 255, 255}, TextAlign::Center);
}

// White text with a dark shadow reads on any image.
void outlinedText(Canvas& canvas, double x, double y, const std::string& text, double size) {
  canvas.text(x + 0.5, y + 0.5, text, size, {0, 0, 0, 255}, TextAlign::Left, 0.0, true);
  canvas.text(x, y, text, size, {255, 255, 255, 255}, TextAlign::Left, 0.0, true);
}

}  // namespace

Canvas drawPanelGrid(const PanelGrid& grid) {
  if (grid.rows.empty() || grid.rows.front().empty())
    throw UsageError("a figure needs at least one panel");
  // One physical scale for every panel: the widest picture gets panel_width_pt.
  double widest_mm = 0.0;
  size_t columns = 0;
  for (const auto& row : grid.rows) {
    columns = std::max(columns, row.size());
    for (const auto& panel : row) widest_mm = std::max(widest_mm, physicalWidth(panel));
  }
  if (!(widest_mm > 0.0)) throw UsageError("a figure needs at least one picture");
  const double pt_per_mm = grid.panel_width_pt / widest_mm;
  auto panelWidth = [&](const FigurePanel& panel) { return physicalWidth(panel) * pt_per_mm; };
  auto panelHeight = [&](const FigurePanel& panel) {
    return panel.picture.empty() ? 0.0
                                 : panelWidth(panel) * panel.picture.height / panel.picture.width;
  };
  std::vector<double> column_widths(columns, 0.0), column_left(columns, 0.0);
  for (const auto& row : grid.rows)
    for (size_t c = 0; c < row.size(); ++c)
      column_widths[c] = std::max(column_widths[c], panelWidth(row[c]));
  const double title_h = grid.title.empty() ? 0.0 : kTitleSize + 8.0;
  const double heading_h = grid.column_titles.empty() ? 0.0 : kHeadingSize + 6.0;
  const double row_title_w = grid.row_titles.empty() ? 0.0 : kHeadingSize + 6.0;
  std::vector<double> row_heights;
  for (const auto& row : grid.rows) {
    double height = 0.0;
    bool caption = false;
    for (const auto& panel : row) {
      height = std::max(height, panelHeight(panel));
      caption |= !panel.caption.empty();
    }
    row_heights.push_back(height + (caption ? kCaptionSize + 4.0 : 0.0));
  }
  double grid_h = 0.0;
  for (double h : row_heights) grid_h += h;
  grid_h += kGap * static_cast<double>(row_heights.size() - 1);
  double grid_w = 0.0;
  for (size_t c = 0; c < columns; ++c) {
    column_left[c] = grid_w;
    grid_w += column_widths[c] + (c + 1 < columns ? kGap : 0.0);
  }
  // Colour bars one above the other, in as many columns as it takes to keep each at least
  // kMinColorbarSlot tall (its ticks and label readable).
  const size_t bars_per_column =
      std::max<size_t>(1, static_cast<size_t>(grid_h / kMinColorbarSlot));
  const size_t bar_columns = (grid.colorbars.size() + bars_per_column - 1) / bars_per_column;
  const double bars_w = static_cast<double>(bar_columns) * (kColorbarColumn + 6.0);
  const double legend_h = grid.legend.empty() ? 0.0 : 16.0;
  // A title wider than the panels widens the page; the panels stay centred under it.
  const double title_w =
      grid.title.empty() ? 0.0 : Canvas(1, 1).textWidth(grid.title, kTitleSize, true);
  const double content_w = row_title_w + grid_w + bars_w;
  const double width = kMargin * 2 + std::max(content_w, title_w);
  const double height = kMargin * 2 + title_h + heading_h + grid_h + legend_h;
  Canvas canvas(width, height);

  const double left = kMargin + row_title_w + std::max(0.0, (title_w - content_w) / 2.0);
  const double top = kMargin + title_h + heading_h;
  if (!grid.title.empty())
    canvas.text(width / 2.0, kMargin + kTitleSize, grid.title, kTitleSize, {0, 0, 0, 255},
                TextAlign::Center, 0.0, true);
  for (size_t c = 0; c < grid.column_titles.size() && c < columns; ++c)
    canvas.text(left + column_left[c] + column_widths[c] / 2.0, top - 5.0, grid.column_titles[c],
                kHeadingSize, {0, 0, 0, 255}, TextAlign::Center);
  double y = top;
  int letter = 0;
  bool scale_bar_drawn = grid.scale_bar_mm < 0.0;
  for (size_t r = 0; r < grid.rows.size(); ++r) {
    if (r < grid.row_titles.size())
      canvas.text(left - row_title_w + kHeadingSize, y + row_heights[r] / 2.0, grid.row_titles[r],
                  kHeadingSize, {0, 0, 0, 255}, TextAlign::Center, 90.0);
    for (size_t c = 0; c < grid.rows[r].size(); ++c) {
      const FigurePanel& panel = grid.rows[r][c];
      const double w = panelWidth(panel), h = panelHeight(panel);
      const double x = left + column_left[c] + (column_widths[c] - w) / 2.0;
      if (panel.picture.empty()) continue;
      canvas.image(panel.picture, x, y, w, h, false);
      if (grid.panel_letters && letter < 26)
        outlinedText(canvas, x + 3.0, y + 11.0, std::string(1, static_cast<char>('a' + letter++)),
                     9.0);
      if (!scale_bar_drawn) {
        drawScaleBar(canvas, panel, x, y, w, h, grid.scale_bar_mm);
        scale_bar_drawn = true;
      }
      if (!panel.caption.empty())
        canvas.text(x + w / 2.0, y + h + kCaptionSize + 1.5, panel.caption, kCaptionSize,
                    {60, 60, 60, 255}, TextAlign::Center);
    }
    y += row_heights[r] + kGap;
  }
  if (!grid.colorbars.empty()) {
    const size_t per_column = (grid.colorbars.size() + bar_columns - 1) / bar_columns;
    const double slot = grid_h / static_cast<double>(per_column);
    for (size_t b = 0; b < grid.colorbars.size(); ++b) {
      const ColorbarSpec& spec = grid.colorbars[b];
      const double bar_x =
          left + grid_w + 10.0 + static_cast<double>(b / per_column) * (kColorbarColumn + 6.0);
      const double bar_h = std::min(slot - 12.0, 150.0);
      const double bar_y = top + static_cast<double>(b % per_column) * slot + (slot - bar_h) / 2.0;
      drawColorbar(canvas, bar_x, bar_y, kColorbarWidth, bar_h, spec.colormap, spec.lo, spec.hi,
                   spec.label, true);
    }
  }
  if (!grid.legend.empty()) {
    drawLegendRow(canvas, left, top + grid_h + 12.0, grid.legend);
  }
  return canvas;
}

// --- figures ----------------------------------------------------------------------------------

std::optional<Vec3> labelCentre(const Volume<int32_t>& labels, int label) {
  const auto& d = labels.dims();
  double sum[3] = {0, 0, 0};
  int64_t count = 0;
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        const int32_t value = labels(i, j, k);
        if (label == 0 ? value == 0 : value != label) continue;
        sum[0] += static_cast<double>(i), sum[1] += static_cast<double>(j),
            sum[2] += static_cast<double>(k);
        ++count;
      }
  if (count == 0) return std::nullopt;
  return Vec3{sum[0] / count, sum[1] / count, sum[2] / count};
}

int64_t resolveSlice(const SliceChoice& choice, const CaseVolumes& c, int focus_label) {
  const SliceFrame frame = sliceFrame(c.image.geometry(), choice.plane);
  if (choice.slice >= 0) {
    if (choice.slice >= frame.slices)
      throw UsageError(fmt::format("{} slice {} is out of range (0 to {})", planeName(choice.plane),
                                   choice.slice, frame.slices - 1));
    return choice.slice;
  }
  if (c.reference && focus_label > 0)
    if (const auto centre = labelCentre(*c.reference, focus_label))
      return std::lround((*centre)[frame.axis_normal]);
  return frame.slices / 2;
}

const Volume<float>& findGate(const ModelOutputs& model, const std::string& gate,
                              Volume<float>& mean) {
  if (gate == "mean" && !model.gates.empty()) {
    mean = meanOfGates(model.gates);
    return mean;
  }
  std::string known;
  for (const auto& [name, volume] : model.gates) {
    if (name == gate) return volume;
    known += (known.empty() ? "" : ", ") + name;
  }
  throw UsageError(fmt::format("{} has no gate '{}' (gates: {})", model.name, gate,
                               known.empty() ? "none" : known + ", mean"));
}

Volume<float> meanOfGates(const std::vector<std::pair<std::string, Volume<float>>>& gates) {
  if (gates.empty()) throw UsageError("no gates to average");
  Volume<float> mean(gates.front().second.geometry());
  auto out = mean.values();
  for (const auto& [name, gate] : gates) {
    if (!gate.geometry().sameGrid(mean.geometry()))
      throw GeometryError(fmt::format("gate {} lies on {}, the first gate on {}", name,
                                      gate.geometry().describe(), mean.geometry().describe()));
    const auto values = gate.channel(0);
    for (size_t v = 0; v < out.size(); ++v) out[v] += values[v];
  }
  const auto n = static_cast<float>(gates.size());
  for (auto& v : out) v /= n;
  return mean;
}

namespace {

std::string sliceTitle(const SliceChoice& choice, int64_t slice) {
  return fmt::format("{} {}", planeName(choice.plane), slice);
}

// The picture pixel size that gives the widest of these planes panel_width_pt at resolution_dpi
// (never coarser than the voxels), and the contour width in those pixels.
struct Resolution {
  double pixel_mm = 0.0;  // 0: the finer in-plane spacing
  int contour_px = 1;
};

Resolution figureResolution(const CaseVolumes& c, const std::vector<Plane>& planes,
                            const FigureStyle& style) {
  if (style.resolution_dpi <= 0.0) return {};
  double widest = 0.0, finest = std::numeric_limits<double>::infinity();
  for (Plane plane : planes) {
    const SliceFrame f = sliceFrame(c.image.geometry(), plane);
    widest = std::max(widest, f.columns * f.spacing_x);
    finest = std::min({finest, f.spacing_x, f.spacing_y});
  }
  const double pixels = style.panel_width_pt / 72.0 * style.resolution_dpi;
  Resolution r;
  r.pixel_mm = std::min(finest, widest / pixels);
  r.contour_px = std::max(1, static_cast<int>(std::lround(0.7 / 72.0 * style.resolution_dpi)));
  return r;
}

SliceScene baseScene(const CaseVolumes& c, Plane plane, int64_t slice, const FigureStyle& style,
                     const Resolution& resolution) {
  SliceScene scene;
  scene.plane = plane;
  scene.slice = slice;
  scene.pixel_mm = resolution.pixel_mm;
  scene.image.volume = &c.image;
  scene.image.lo = style.window.lo();
  scene.image.hi = style.window.hi();
  scene.image.interpolation = style.interpolation;
  return scene;
}

void addContours(SliceScene& scene, const CaseVolumes& c, const ModelOutputs* model,
                 const FigureStyle& style, const Resolution& resolution) {
  std::vector<int> only;
  if (style.focus_label > 0) only.push_back(style.focus_label);
  const int width = resolution.contour_px;
  if (c.reference)
    scene.labels.push_back(
        {&*c.reference, LabelStyle::Contour, style.reference_color, only, 1.0, width});
  if (model && model->prediction)
    scene.labels.push_back(
        {&*model->prediction, LabelStyle::Contour, style.prediction_color, only, 1.0, width});
}

std::vector<Plane> planesOf(const std::vector<SliceChoice>& slices) {
  std::vector<Plane> planes;
  for (const auto& s : slices) planes.push_back(s.plane);
  return planes;
}

ScalarLayer attentionLayer(const Volume<float>& gate, const FigureStyle& style) {
  return gatescope::attentionLayer(gate, {style.attention_colormap, style.attention_opacity,
                                          style.attention_threshold, style.interpolation});
}

FigurePanel panelOf(const SliceScene& scene, const CaseVolumes& c) {
  FigurePanel panel;
  panel.picture = composeSlice(scene);
  panel.pixel_mm =
      sliceMapping(c.image.geometry(), scene.plane, scene.slice, scene.pixel_mm).pixel_mm;
  return panel;
}

std::vector<LegendEntry> contourLegend(const CaseVolumes& c, bool prediction,
                                       const FigureStyle& style) {
  std::vector<LegendEntry> legend;
  const std::string label =
      style.focus_label_name.empty() ? "" : " (" + style.focus_label_name + ")";
  if (c.reference) legend.push_back({"reference" + label, style.reference_color});
  if (prediction) legend.push_back({"prediction" + label, style.prediction_color});
  return legend;
}

ColorbarSpec attentionColorbar(const FigureStyle& style) {
  return {style.attention_colormap, 0.0, 1.0, "attention coefficient"};
}

ColorbarSpec attributionColorbar(const FigureStyle& style) {
  return {style.attribution_colormap, 0.0, 1.0, "attribution (positive / max)"};
}

ScalarLayer attributionLayer(const Volume<float>& map, const FigureStyle& style) {
  return gatescope::attentionLayer(map, {style.attribution_colormap, style.attention_opacity,
                                         style.attention_threshold, style.interpolation});
}

}  // namespace

std::vector<NamedMap> attributionMaps(const ModelOutputs& model, const AttributionChoice& choice,
                                      int focus_label) {
  std::vector<NamedMap> out;
  for (const std::string& text : choice.specs) {
    const AttributionSpec spec = parseAttributionSpec(text, "--attribution " + text);
    const std::string method = attributionMethodName(spec.method);
    std::vector<std::string> keys;  // method@layer, as asked or as saved
    if (!isLayerMethod(spec.method)) keys.push_back(method + "@input");
    for (const auto& layer : spec.layers) keys.push_back(method + "@" + layer);
    if (isLayerMethod(spec.method) && spec.layers.empty())
      for (const auto& entry : model.attributions) {
        const auto split = splitClassMapName(entry.first);
        if (split && split->first.starts_with(method + "@") &&
            std::find(keys.begin(), keys.end(), split->first) == keys.end())
          keys.push_back(split->first);
      }
    for (const std::string& key : keys) {
      const std::pair<std::string, Volume<float>>* found = nullptr;
      int64_t found_class = 0;
      for (const auto& entry : model.attributions) {
        const auto split = splitClassMapName(entry.first);
        if (!split || split->first != key || (focus_label > 0 && split->second != focus_label))
          continue;
        if (!found || split->second < found_class) found = &entry, found_class = split->second;
      }
      if (!found) {
        std::vector<std::string> names;
        for (const auto& entry : model.attributions) names.push_back(entry.first);
        throw UsageError(fmt::format(
            "{} has no attribution map {}{} (it has: {}); make them with evaluate --attribution "
            "... --save-predictions, or gatescope attribute",
            model.name, key, focus_label > 0 ? fmt::format(" for class {}", focus_label) : "",
            names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", "))));
      }
      out.push_back({found->first, &found->second});
    }
    if (keys.empty()) throw UsageError(fmt::format("{} has no {} maps", model.name, method));
  }
  return out;
}

PanelGrid gateFigure(const CaseVolumes& c, const ModelOutputs& model,
                     const std::vector<SliceChoice>& slices, const FigureStyle& style,
                     const AttributionChoice& attributions) {
  const std::vector<NamedMap> maps = attributionMaps(model, attributions, style.focus_label);
  if (model.gates.empty() && maps.empty() && model.stored_predictions)
    throw UsageError(model.name +
                     " is a folder of predictions: no network, so no gates or attribution maps to "
                     "show (render compare or montage show its labels)");
  if (model.gates.empty() && maps.empty())
    throw UsageError(model.name +
                     " has no attention gates to show (an ungated model: name attribution maps "
                     "with --attribution)");
  struct Row {
    std::string title;
    const Volume<float>* values;
    bool attribution;
  };
  std::vector<Row> rows;
  for (const auto& [name, gate] : model.gates) rows.push_back({name, &gate, false});
  Volume<float> mean;
  if (model.gates.size() > 1) {
    mean = meanOfGates(model.gates);
    rows.push_back({"mean of gates", &mean, false});
  }
  for (const auto& map : maps) rows.push_back({map.title, map.values, true});
  PanelGrid grid;
  const std::string what = model.gates.empty() ? "attribution maps"
                           : maps.empty()      ? "attention gates"
                                               : "attention gates and attribution maps";
  grid.title =
      style.title.empty() ? fmt::format("{}: {}, case {}", model.name, what, c.id) : style.title;
  grid.panel_width_pt = style.panel_width_pt;
  std::vector<int64_t> resolved;
  for (const auto& choice : slices) {
    resolved.push_back(resolveSlice(choice, c, style.focus_label));
    grid.column_titles.push_back(sliceTitle(choice, resolved.back()));
  }
  const Resolution resolution = figureResolution(c, planesOf(slices), style);
  for (const Row& r : rows) {
    grid.row_titles.push_back(r.title);
    auto& row = grid.rows.emplace_back();
    for (size_t s = 0; s < slices.size(); ++s) {
      SliceScene scene = baseScene(c, slices[s].plane, resolved[s], style, resolution);
      scene.overlays.push_back(r.attribution ? attributionLayer(*r.values, style)
                                             : attentionLayer(*r.values, style));
      addContours(scene, c, &model, style, resolution);
      row.push_back(panelOf(scene, c));
    }
  }
  if (!model.gates.empty()) grid.colorbars.push_back(attentionColorbar(style));
  if (!maps.empty()) grid.colorbars.push_back(attributionColorbar(style));
  grid.legend = contourLegend(c, model.prediction.has_value(), style);
  return grid;
}

// The focus label's probability A - B (the foreground's, 1 - P(background), for label 0), NaN
// where the two agree within 0.05 so that agreement shows the image.
Volume<float> probabilityDifference(const Volume<float>& a, const Volume<float>& b, int label) {
  if (!a.geometry().sameGrid(b.geometry()) || a.channels() != b.channels())
    throw GeometryError(
        fmt::format("the two models' probabilities differ in grid or classes ({}, {} vs {}, {})",
                    a.geometry().describe(), a.channels(), b.geometry().describe(), b.channels()));
  if (label >= a.channels())
    throw UsageError(
        fmt::format("label {} has no probability channel ({} classes)", label, a.channels()));
  Volume<float> out(a.geometry());
  auto dst = out.values();
  const auto pa = a.channel(label), pb = b.channel(label);
  for (size_t v = 0; v < dst.size(); ++v) {
    float d = pa[v] - pb[v];
    if (label == 0) d = -d;  // 1 - P(background)
    dst[v] = std::abs(d) < 0.05f ? std::numeric_limits<float>::quiet_NaN() : d;
  }
  return out;
}

// +1 where only A predicts the focus label (any label for 0), -1 where only B does, NaN elsewhere.
Volume<float> predictionDisagreement(const Volume<int32_t>& a, const Volume<int32_t>& b,
                                     int label) {
  if (!a.geometry().sameGrid(b.geometry()))
    throw GeometryError("the two models' predictions lie on different grids");
  Volume<float> out(a.geometry());
  auto dst = out.values();
  const auto la = a.values(), lb = b.values();
  for (size_t v = 0; v < dst.size(); ++v) {
    const bool in_a = label > 0 ? la[v] == label : la[v] != 0;
    const bool in_b = label > 0 ? lb[v] == label : lb[v] != 0;
    dst[v] = in_a == in_b ? std::numeric_limits<float>::quiet_NaN() : in_a ? 1.0f : -1.0f;
  }
  return out;
}

PanelGrid comparisonFigure(const CaseVolumes& c, const ModelOutputs& a, const ModelOutputs& b,
                           const std::vector<SliceChoice>& slices, const FigureStyle& style,
                           const AttributionChoice& attributions) {
  Volume<float> difference;
  std::string difference_label;
  const std::string label_text =
      style.focus_label > 0
          ? (style.focus_label_name.empty() ? fmt::format("label {}", style.focus_label)
                                            : style.focus_label_name)
          : "foreground";
  if (a.probabilities && b.probabilities) {
    difference = probabilityDifference(*a.probabilities, *b.probabilities, style.focus_label);
    difference_label = "P(" + label_text + "): A - B";
  } else if (a.prediction && b.prediction) {
    difference = predictionDisagreement(*a.prediction, *b.prediction, style.focus_label);
    difference_label = label_text + ": only A (+1), only B (-1)";
  } else {
    throw UsageError("a comparison needs both models' probabilities or predictions");
  }
  // Per model: its gate mean (where it has gates), then the attribution maps chosen.
  struct Column {
    const ModelOutputs* model;
    std::string title;
    const Volume<float>* values;
    bool attribution;
  };
  std::optional<Volume<float>> mean_a, mean_b;
  if (!a.gates.empty()) mean_a = meanOfGates(a.gates);
  if (!b.gates.empty()) mean_b = meanOfGates(b.gates);
  std::vector<Column> columns;
  bool gates_shown = false, maps_shown = false;
  for (const auto& [model, mean] : {std::pair{&a, &mean_a}, std::pair{&b, &mean_b}}) {
    const std::vector<NamedMap> maps = attributionMaps(*model, attributions, style.focus_label);
    if (*mean || maps.empty()) {
      columns.push_back(
          {model, model->name + (*mean ? " (gate mean)" : ""), *mean ? &**mean : nullptr, false});
      gates_shown = gates_shown || mean->has_value();
    }
    const std::string key = model->name.substr(0, model->name.find(':'));  // "A"
    for (const auto& map : maps)
      columns.push_back({model, key + ": " + map.title, map.values, true});
    maps_shown = maps_shown || !maps.empty();
  }

  PanelGrid grid;
  grid.title =
      style.title.empty() ? fmt::format("case {}: {} vs {}", c.id, a.name, b.name) : style.title;
  grid.panel_width_pt = style.panel_width_pt;
  for (const Column& column : columns) grid.column_titles.push_back(column.title);
  grid.column_titles.push_back("difference");
  const Resolution resolution = figureResolution(c, planesOf(slices), style);
  for (const auto& choice : slices) {
    const int64_t slice = resolveSlice(choice, c, style.focus_label);
    grid.row_titles.push_back(sliceTitle(choice, slice));
    auto& row = grid.rows.emplace_back();
    for (const Column& column : columns) {
      SliceScene scene = baseScene(c, choice.plane, slice, style, resolution);
      if (column.values)
        scene.overlays.push_back(column.attribution ? attributionLayer(*column.values, style)
                                                    : attentionLayer(*column.values, style));
      addContours(scene, c, column.model, style, resolution);
      row.push_back(panelOf(scene, c));
    }
    SliceScene scene = baseScene(c, choice.plane, slice, style, resolution);
    scene.overlays.push_back(differenceLayer(difference));
    addContours(scene, c, nullptr, style, resolution);
    row.push_back(panelOf(scene, c));
  }
  if (gates_shown) grid.colorbars.push_back(attentionColorbar(style));
  if (maps_shown) grid.colorbars.push_back(attributionColorbar(style));
  grid.colorbars.push_back({ColormapName::Diverging, -1.0, 1.0, difference_label});
  grid.legend = contourLegend(c, true, style);
  return grid;
}

namespace {

std::string className(const SavedCase& c, int index) {
  if (index >= 0 && index < static_cast<int>(c.class_names.size()) &&
      !c.class_names[static_cast<size_t>(index)].empty())
    return c.class_names[static_cast<size_t>(index)];
  return fmt::format("class {}", index);
}

// A classifier's gate map divided by its maximum: the gates of AG-SonoNet's usual normalisations
// sum to one over the image, so their raw values are too small to see on a 0..1 scale.
Volume<float> overMaximum(const Volume<float>& map) {
  Volume<float> out(map);
  float top = 0.0f;
  for (const float v : out.values())
    if (std::isfinite(v)) top = std::max(top, v);
  if (top > 0.0f)
    for (float& v : out.values()) v /= top;
  return out;
}

// The model's saved map `key` ("gradcam@conv3") of the image's true class, as saved for display
// (positive part / max). UsageError naming the maps it has.
const Volume<float>& classMap(const SavedCase& c, const ModelOutputs& model,
                              const std::string& key) {
  std::vector<std::string> names;
  for (const auto& [name, map] : model.attributions) {
    const auto split = splitClassMapName(name);
    if (split && split->first == key) return map;
    names.push_back(name);
  }
  throw UsageError(fmt::format(
      "{} has no attribution map {} for image {} (it has: {}); evaluate with --attribution {} "
      "--save-predictions",
      model.name, key, c.volumes.id,
      names.empty() ? "none" : fmt::format("{}", fmt::join(names, ", ")), key));
}

// "A: heart 0.97, right"
std::string answerCaption(const SavedCase& c, const ModelOutputs& model) {
  const std::string key = model.name.substr(0, model.name.find(':'));
  if (!model.classification) return key + ": no answer";
  const ClassAnswer& answer = *model.classification;
  const auto p = static_cast<size_t>(answer.predicted_class);
  return fmt::format("{}: {} {:.2f}{}", key, className(c, answer.predicted_class),
                     p < answer.probabilities.size() ? answer.probabilities[p] : NAN,
                     c.volumes.true_class < 0                         ? ""
                     : answer.predicted_class == c.volumes.true_class ? ", right"
                                                                      : ", wrong");
}

}  // namespace

PanelGrid classificationGateFigure(const std::vector<SavedCase>& cases,
                                   const std::vector<size_t>& models, const FigureStyle& style,
                                   const std::vector<std::string>& attributions) {
  if (cases.empty()) throw UsageError("a classification figure needs at least one image");
  for (const SavedCase& c : cases) {
    if (c.volumes.image.dims()[2] != 1)
      throw UsageError(
          fmt::format("case {} is not a 2D image of a classifiers' evaluation", c.volumes.id));
    for (const size_t m : models)
      if (m >= c.models.size() || !c.models[m].classification)
        throw UsageError(
            fmt::format("image {} has no answer of model {}", c.volumes.id, m == 0 ? "A" : "B"));
  }
  const SavedCase& first = cases.front();
  PanelGrid grid;
  grid.panel_width_pt = style.panel_width_pt;
  grid.column_titles.push_back("image");
  bool gates_shown = false;
  std::vector<std::string> names;
  for (const size_t m : models) {
    const ModelOutputs& model = first.models[m];
    names.push_back(model.name);
    const std::string key = model.name.substr(0, model.name.find(':'));
    if (model.gates.empty() && attributions.empty())
      grid.column_titles.push_back(model.name + " (no gates)");
    for (const auto& gate : model.gates) grid.column_titles.push_back(key + ": " + gate.first);
    for (const auto& map : attributions) grid.column_titles.push_back(key + ": " + map);
    gates_shown = gates_shown || !model.gates.empty();
  }
  grid.title = style.title.empty() ? fmt::format("{}: attention gates, true and predicted classes",
                                                 fmt::join(names, " vs "))
                                   : style.title;
  std::deque<Volume<float>> scaled;  // the maps shown, alive until the panels are composed
  for (const SavedCase& c : cases) {
    const CaseVolumes& v = c.volumes;
    const Resolution resolution = figureResolution(v, {Plane::Axial}, style);
    grid.row_titles.push_back(v.true_class >= 0 ? "true: " + className(c, v.true_class)
                                                : "true: unknown");
    auto& row = grid.rows.emplace_back();
    SliceScene scene = baseScene(v, Plane::Axial, 0, style, resolution);
    addContours(scene, v, nullptr, style, resolution);
    row.push_back(panelOf(scene, v));
    row.back().caption = v.id.substr(v.id.rfind('/') + 1);
    for (const size_t m : models) {
      const ModelOutputs& model = c.models[m];
      const size_t start = row.size();
      if (model.gates.empty() && attributions.empty()) {
        SliceScene bare = baseScene(v, Plane::Axial, 0, style, resolution);
        addContours(bare, v, nullptr, style, resolution);
        row.push_back(panelOf(bare, v));
      }
      for (const auto& gate : model.gates) {
        SliceScene gated = baseScene(v, Plane::Axial, 0, style, resolution);
        scaled.push_back(overMaximum(gate.second));
        gated.overlays.push_back(attentionLayer(scaled.back(), style));
        addContours(gated, v, nullptr, style, resolution);
        row.push_back(panelOf(gated, v));
      }
      for (const auto& wanted : attributions) {
        SliceScene explained = baseScene(v, Plane::Axial, 0, style, resolution);
        explained.overlays.push_back(attributionLayer(classMap(c, model, wanted), style));
        addContours(explained, v, nullptr, style, resolution);
        row.push_back(panelOf(explained, v));
      }
      row[start].caption = answerCaption(c, model);
    }
  }
  if (gates_shown)
    grid.colorbars.push_back({style.attention_colormap, 0.0, 1.0, "attention / its maximum"});
  if (!attributions.empty())
    grid.colorbars.push_back(
        {style.attribution_colormap, 0.0, 1.0, "attribution of the true class (positive / max)"});
  if (std::any_of(cases.begin(), cases.end(),
                  [](const SavedCase& c) { return c.volumes.reference.has_value(); }))
    grid.legend.push_back({"telling structure (mask or box)", style.reference_color});
  return grid;
}

PanelGrid montageFigure(const CaseVolumes& c, const ModelOutputs* model, const std::string& gate,
                        Plane plane, int64_t first, int64_t last, int64_t step, int columns,
                        const FigureStyle& style) {
  const SliceFrame frame = sliceFrame(c.image.geometry(), plane);
  if (first < 0 || last >= frame.slices || first > last || step < 1)
    throw UsageError(fmt::format("{} slices {} to {} step {}: the image has slices 0 to {}",
                                 planeName(plane), first, last, step, frame.slices - 1));
  if (columns < 1) throw UsageError("a montage needs at least one column");
  Volume<float> mean;
  const Volume<float>* overlay = model && !gate.empty() ? &findGate(*model, gate, mean) : nullptr;
  PanelGrid grid;
  grid.title = style.title.empty()
                   ? fmt::format("case {}: {} slices {}-{}{}", c.id, planeName(plane), first, last,
                                 overlay ? ", " + model->name + ", " +
                                               (gate == "mean" ? "mean of gates" : gate)
                                         : "")
                   : style.title;
  grid.panel_width_pt = style.panel_width_pt;
  const Resolution resolution = figureResolution(c, {plane}, style);
  for (int64_t slice = first; slice <= last; slice += step) {
    if (grid.rows.empty() || static_cast<int>(grid.rows.back().size()) == columns)
      grid.rows.emplace_back();
    SliceScene scene = baseScene(c, plane, slice, style, resolution);
    if (overlay) scene.overlays.push_back(attentionLayer(*overlay, style));
    addContours(scene, c, model, style, resolution);
    FigurePanel panel = panelOf(scene, c);
    panel.caption = fmt::format("slice {}", slice);
    grid.rows.back().push_back(std::move(panel));
  }
  if (overlay) grid.colorbars.push_back(attentionColorbar(style));
  grid.legend = contourLegend(c, model && model->prediction, style);
  return grid;
}

}  // namespace gatescope
