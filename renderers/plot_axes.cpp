#include "renderers/plot_axes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

constexpr double kTickLengthPt = 3.0;
constexpr double kTickGapPt = 2.0;   // between a tick and its label
constexpr double kLabelGapPt = 4.0;  // between tick labels and the axis label
// DejaVu Sans ascent and descent as fractions of the font size (digits and lower case).
constexpr double kAscent = 0.76;
constexpr double kDescent = 0.24;
// Raising a baseline by this fraction of the size centres digits on a y position.
constexpr double kDigitCentre = 0.36;
constexpr double kRotatedCategoryDegrees = 30.0;

double categorySpacing(const PlotArea& area, const Categories& categories) {
  std::vector<double> xs;
  for (const auto& [x, name] : categories) xs.push_back(area.xToCanvas(x));
  std::sort(xs.begin(), xs.end());
  double spacing = area.width;
  for (size_t i = 1; i < xs.size(); ++i) spacing = std::min(spacing, xs[i] - xs[i - 1]);
  return spacing;
}

bool categoriesRotated(const Canvas& canvas, const PlotArea& area, const Categories& categories) {
  const double room = categorySpacing(area, categories) - 4.0;
  return std::any_of(categories.begin(), categories.end(),
                     [&](const auto& c) { return canvas.textWidth(c.second, kTickFontPt) > room; });
}

double widestText(const Canvas& canvas, const std::vector<std::string>& texts, double size) {
  double widest = 0.0;
  for (const auto& t : texts) widest = std::max(widest, canvas.textWidth(t, size));
  return widest;
}

}  // namespace

Rgba modelColor(const std::string& model_key) {
  if (model_key == "A") return kModelAColor;
  if (model_key == "B") return kModelBColor;
  return {110, 110, 110, 255};
}

Rgba lighten(Rgba color, double amount) {
  const auto towards_white = [amount](uint8_t c) {
    return static_cast<uint8_t>(std::lround(c + (255 - c) * amount));
  };
  return {towards_white(color.r), towards_white(color.g), towards_white(color.b), color.a};
}

Rgba withAlpha(Rgba color, uint8_t alpha) {
  return {color.r, color.g, color.b, alpha};
}

std::vector<double> niceTicks(double lo, double hi, int target_count) {
  if (!std::isfinite(lo) || !std::isfinite(hi))
    throw UsageError("axis range must be finite, got [" + std::to_string(lo) + ", " +
                     std::to_string(hi) + "]");
  if (lo > hi) std::swap(lo, hi);
  if (lo == hi) {
    const double pad = lo == 0.0 ? 1.0 : 0.1 * std::abs(lo);
    lo -= pad, hi += pad;
  }
  target_count = std::max(target_count, 2);
  // Steps mantissa * 10^exponent around range / target; the tick count is what decides.
  const int base_exponent = static_cast<int>(std::floor(std::log10((hi - lo) / target_count)));
  double best_mantissa = 1, best_count = 0;
  int best_exponent = 0, best_first = 0;
  bool found = false;
  for (int exponent = base_exponent - 1; exponent <= base_exponent + 1; ++exponent)
    for (const int mantissa : {1, 2, 5}) {
      const double step = mantissa * std::pow(10.0, exponent);
      // The tolerance keeps 1.8 / 0.1 = 17.999999999999996 on tick 18.
      const double first = std::floor(lo / step + 1e-9), last = std::ceil(hi / step - 1e-9);
      const double count = last - first + 1;
      // Candidates come in increasing step, so `<` keeps the smaller step (more ticks) on a tie.
      if (!found || std::abs(count - target_count) < std::abs(best_count - target_count)) {
        found = true;
        best_mantissa = mantissa, best_exponent = exponent, best_count = count;
        best_first = static_cast<int>(first);
      }
    }
  // k * mantissa / 10^e (or * 10^e) is the correctly rounded decimal: 0.3, not 0.30000000000000004.
  const double scale = std::pow(10.0, std::abs(best_exponent));
  std::vector<double> ticks;
  for (int i = 0; i < static_cast<int>(best_count); ++i) {
    const double units = static_cast<double>(best_first + i) * best_mantissa;
    ticks.push_back(best_exponent < 0 ? units / scale : units * scale);
  }
  return ticks;
}

std::vector<double> ticksThatFit(const Canvas& canvas, double lo, double hi, double length_pt,
                                 bool horizontal, int target_count) {
  std::vector<double> ticks;
  for (int target = target_count; target >= 2; --target) {
    ticks = niceTicks(lo, hi, target);
    const double spacing = length_pt / static_cast<double>(ticks.size() - 1);
    const double needed =
        horizontal ? widestText(canvas, tickLabels(ticks), kTickFontPt) + 6.0 : 1.8 * kTickFontPt;
    if (spacing >= needed) return ticks;
  }
  return ticks;
}

std::string formatTick(double value, double step) {
  if (value == 0.0 || std::abs(value) < 1e-9 * std::abs(step)) return "0";
  const double magnitude = std::max(std::abs(value), std::abs(step));
  char buffer[48];
  if (magnitude >= 1e6 || std::abs(step) < 1e-4) {
    std::snprintf(buffer, sizeof buffer, "%.3g", value);
  } else {
    const int decimals =
        std::max(0, -static_cast<int>(std::floor(std::log10(std::abs(step)) + 1e-9)));
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  }
  return buffer;
}

std::vector<std::string> tickLabels(const std::vector<double>& ticks) {
  const double step =
      ticks.size() > 1 ? ticks[1] - ticks[0] : (ticks.empty() ? 1.0 : std::abs(ticks[0]));
  std::vector<std::string> labels;
  for (const double t : ticks) labels.push_back(formatTick(t, step == 0.0 ? 1.0 : step));
  return labels;
}

std::string formatValue(double value, int significant) {
  if (std::isnan(value)) return "n/a";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0.0) return "0";
  char buffer[48];
  const int digits_before_point = static_cast<int>(std::floor(std::log10(std::abs(value)))) + 1;
  if (digits_before_point > 6 || digits_before_point < -3) {
    std::snprintf(buffer, sizeof buffer, "%.*g", significant, value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.*f", std::max(0, significant - digits_before_point),
                  value);
  }
  return buffer;
}

std::string formatPValue(double p) {
  if (std::isnan(p)) return "p = n/a";
  if (p < 0.001) return "p < 0.001";
  return "p = " + formatValue(p, 2);
}

double yAxisMargin(const Canvas& canvas, const std::vector<double>& ticks, bool has_label) {
  const double labels = widestText(canvas, tickLabels(ticks), kTickFontPt);
  return kTickLengthPt + kTickGapPt + labels + (has_label ? kLabelGapPt + kLabelFontPt : 0.0) + 2.0;
}

double xAxisMargin(bool has_label) {
  const double tick_labels = kTickLengthPt + kTickGapPt + (kAscent + kDescent) * kTickFontPt;
  return tick_labels + (has_label ? kLabelGapPt + (kAscent + kDescent) * kLabelFontPt : 0.0) + 2.0;
}

void drawFrame(Canvas& canvas, const PlotArea& area, bool closed) {
  canvas.line(area.left, area.top, area.left, area.bottom(), kAxisColor, 0.8);
  canvas.line(area.left, area.bottom(), area.right(), area.bottom(), kAxisColor, 0.8);
  if (!closed) return;
  canvas.line(area.left, area.top, area.right(), area.top, kAxisColor, 0.8);
  canvas.line(area.right(), area.top, area.right(), area.bottom(), kAxisColor, 0.8);
}

void drawHorizontalGrid(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks) {
  for (const double t : ticks) {
    const double y = area.yToCanvas(t);
    if (y >= area.top - 0.01 && y <= area.bottom() + 0.01)
      canvas.line(area.left, y, area.right(), y, kGridColor, 0.5);
  }
}

void drawVerticalGrid(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks) {
  for (const double t : ticks) {
    const double x = area.xToCanvas(t);
    if (x >= area.left - 0.01 && x <= area.right() + 0.01)
      canvas.line(x, area.top, x, area.bottom(), kGridColor, 0.5);
  }
}

void drawYAxis(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks,
               const std::string& label) {
  const std::vector<std::string> labels = tickLabels(ticks);
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double y = area.yToCanvas(ticks[i]);
    canvas.line(area.left - kTickLengthPt, y, area.left, y, kAxisColor, 0.8);
    canvas.text(area.left - kTickLengthPt - kTickGapPt, y + kDigitCentre * kTickFontPt, labels[i],
                kTickFontPt, kAxisColor, TextAlign::Right);
  }
  if (label.empty()) return;
  const double x = area.left - kTickLengthPt - kTickGapPt -
                   widestText(canvas, labels, kTickFontPt) - kLabelGapPt - kDescent * kLabelFontPt;
  canvas.text(x, area.top + area.height / 2.0, ellipsize(canvas, label, area.height, kLabelFontPt),
              kLabelFontPt, kAxisColor, TextAlign::Center, 90.0);
}

void drawXAxis(Canvas& canvas, const PlotArea& area, const std::vector<double>& ticks,
               const std::string& label) {
  const std::vector<std::string> labels = tickLabels(ticks);
  const double baseline = area.bottom() + kTickLengthPt + kTickGapPt + kAscent * kTickFontPt;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double x = area.xToCanvas(ticks[i]);
    canvas.line(x, area.bottom(), x, area.bottom() + kTickLengthPt, kAxisColor, 0.8);
    canvas.text(x, baseline, labels[i], kTickFontPt, kAxisColor, TextAlign::Center);
  }
  if (label.empty()) return;
  canvas.text(area.left + area.width / 2.0,
              baseline + kDescent * kTickFontPt + kLabelGapPt + kAscent * kLabelFontPt,
              ellipsize(canvas, label, area.width, kLabelFontPt), kLabelFontPt, kAxisColor,
              TextAlign::Center);
}

double categoryAxisMargin(const Canvas& canvas, const PlotArea& area, const Categories& categories,
                          bool has_label) {
  double labels = (kAscent + kDescent) * kTickFontPt;
  if (categoriesRotated(canvas, area, categories)) {
    std::vector<std::string> names;
    for (const auto& c : categories) names.push_back(c.second);
    const double angle = kRotatedCategoryDegrees * std::acos(-1.0) / 180.0;
    labels = widestText(canvas, names, kTickFontPt) * std::sin(angle) + labels * std::cos(angle);
  }
  return kTickGapPt + labels +
         (has_label ? kLabelGapPt + (kAscent + kDescent) * kLabelFontPt : 0.0) + 2.0;
}

void drawCategoryAxis(Canvas& canvas, const PlotArea& area, const Categories& categories,
                      const std::string& label) {
  const bool rotated = categoriesRotated(canvas, area, categories);
  for (const auto& [value, name] : categories) {
    const double x = area.xToCanvas(value);
    if (rotated)
      canvas.text(x + 0.5 * kTickFontPt * kAscent,
                  area.bottom() + kTickGapPt + kAscent * kTickFontPt, name, kTickFontPt, kAxisColor,
                  TextAlign::Right, kRotatedCategoryDegrees);
    else
      canvas.text(x, area.bottom() + kTickGapPt + kAscent * kTickFontPt, name, kTickFontPt,
                  kAxisColor, TextAlign::Center);
  }
  if (label.empty()) return;
  const double below =
      categoryAxisMargin(canvas, area, categories, true) - 2.0 - kDescent * kLabelFontPt;
  canvas.text(area.left + area.width / 2.0, area.bottom() + below,
              ellipsize(canvas, label, area.width, kLabelFontPt), kLabelFontPt, kAxisColor,
              TextAlign::Center);
}

double drawTitle(Canvas& canvas, double x, double y, const std::string& title,
                 const std::vector<std::string>& notes) {
  double baseline = y + kAscent * kTitleFontPt;
  canvas.text(x, baseline, title, kTitleFontPt, {0, 0, 0, 255}, TextAlign::Left, 0.0, true);
  double bottom = baseline + kDescent * kTitleFontPt;
  for (const auto& note : notes) {
    baseline = bottom + 1.5 + kAscent * kNoteFontPt;
    canvas.text(x, baseline, note, kNoteFontPt, kMutedTextColor);
    bottom = baseline + kDescent * kNoteFontPt;
  }
  return bottom;
}

std::vector<std::string> packNoteLines(const Canvas& canvas, const std::vector<std::string>& parts,
                                       double width) {
  std::vector<std::string> lines;
  for (const auto& part : parts) {
    if (part.empty()) continue;
    if (!lines.empty() && canvas.textWidth(lines.back() + "; " + part, kNoteFontPt) <= width)
      lines.back() += "; " + part;
    else
      lines.push_back(part);
  }
  return lines;
}

namespace {
constexpr double kLegendMarkWidthPt = 12.0;
constexpr double kLegendEntryGapPt = 10.0;
}  // namespace

double legendRowWidth(const Canvas& canvas, const std::vector<LegendEntry>& entries) {
  double width = 0.0;
  for (const auto& e : entries)
    width += (width > 0.0 ? kLegendEntryGapPt : 0.0) + kLegendMarkWidthPt + 3.0 +
             canvas.textWidth(e.text, kNoteFontPt);
  return width;
}

std::string ellipsize(const Canvas& canvas, const std::string& text, double width, double size_pt,
                      bool bold) {
  if (canvas.textWidth(text, size_pt, bold) <= width) return text;
  for (size_t length = text.size(); length-- > 0;) {
    if ((static_cast<unsigned char>(text[length]) & 0xC0) == 0x80)
      continue;  // inside a UTF-8 character
    std::string candidate = text.substr(0, length);
    while (!candidate.empty() && candidate.back() == ' ') candidate.pop_back();
    candidate += "…";
    if (canvas.textWidth(candidate, size_pt, bold) <= width) return candidate;
  }
  return "…";
}

std::vector<std::vector<LegendEntry>> legendRows(const Canvas& canvas,
                                                 const std::vector<LegendEntry>& entries,
                                                 double max_width) {
  std::vector<std::vector<LegendEntry>> rows;
  for (const auto& e : entries) {
    if (!rows.empty()) {
      rows.back().push_back(e);
      if (legendRowWidth(canvas, rows.back()) <= max_width) continue;
      rows.back().pop_back();
    }
    rows.push_back({e});
  }
  return rows;
}

void drawLegendRow(Canvas& canvas, double x, double baseline, std::vector<LegendEntry> entries,
                   double max_width) {
  if (max_width > 0.0 && legendRowWidth(canvas, entries) > max_width && !entries.empty()) {
    const double share = (max_width - static_cast<double>(entries.size() - 1) * kLegendEntryGapPt) /
                             static_cast<double>(entries.size()) -
                         kLegendMarkWidthPt - 3.0;
    for (auto& e : entries) e.text = ellipsize(canvas, e.text, share, kNoteFontPt);
  }
  const double centre_y = baseline - kDigitCentre * kNoteFontPt;
  for (const auto& e : entries) {
    const double mark_centre = x + kLegendMarkWidthPt / 2.0;
    switch (e.mark) {
      case LegendMark::Line:
        canvas.line(x, centre_y, x + kLegendMarkWidthPt, centre_y, e.color, 1.5);
        break;
      case LegendMark::Circle:
        canvas.circle(mark_centre, centre_y, 2.2, e.color);
        break;
      case LegendMark::Square:
        canvas.rectangle(mark_centre - 2.0, centre_y - 2.0, 4.0, 4.0, e.color);
        break;
    }
    x += kLegendMarkWidthPt + 3.0;
    canvas.text(x, baseline, e.text, kNoteFontPt, kAxisColor);
    x += canvas.textWidth(e.text, kNoteFontPt) + kLegendEntryGapPt;
  }
}

std::vector<double> spreadLabels(const std::vector<double>& wanted, double gap, double lo,
                                 double hi) {
  const size_t n = wanted.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return wanted[a] < wanted[b]; });
  // Pool adjacent clusters that collide and centre each cluster on its labels' wishes (least
  // squares), then push clusters back inside [lo, hi].
  struct Cluster {
    size_t first, count;
    double offset_sum;  // sum of wanted[i] - (i - first) * gap
    [[nodiscard]] double start() const { return offset_sum / static_cast<double>(count); }
  };
  std::vector<Cluster> clusters;
  for (size_t k = 0; k < n; ++k) {
    clusters.push_back({k, 1, std::clamp(wanted[order[k]], lo, hi)});
    while (clusters.size() > 1) {
      Cluster& last = clusters.back();
      const Cluster& before = clusters[clusters.size() - 2];
      if (before.start() + static_cast<double>(before.count) * gap <= last.start() + 1e-9) break;
      Cluster merged{before.first, before.count + last.count,
                     before.offset_sum +
                         (last.offset_sum - static_cast<double>(before.count) * gap * last.count)};
      clusters.pop_back();
      clusters.back() = merged;
    }
  }
  std::vector<double> sorted(n);
  for (const Cluster& c : clusters)
    for (size_t i = 0; i < c.count; ++i)
      sorted[c.first + i] = c.start() + static_cast<double>(i) * gap;
  for (size_t k = 0; k < n; ++k) sorted[k] = std::max(sorted[k], lo + static_cast<double>(k) * gap);
  for (size_t k = n; k-- > 0;)
    sorted[k] = std::min(sorted[k], hi - static_cast<double>(n - 1 - k) * gap);
  std::vector<double> positions(n);
  for (size_t k = 0; k < n; ++k) positions[order[k]] = sorted[k];
  return positions;
}

void drawColorbar(Canvas& canvas, double x, double y, double w, double h, ColormapName map,
                  double lo, double hi, const std::string& label, bool vertical) {
  const auto& table = colormap(map).table;
  RgbaImage bar = vertical ? RgbaImage(1, 256) : RgbaImage(256, 1);
  for (int i = 0; i < 256; ++i) {
    if (vertical)
      bar.set(0, 255 - i, table[i]);
    else
      bar.set(i, 0, table[i]);
  }
  canvas.image(bar, x, y, w, h, false);
  canvas.rectangleOutline(x, y, w, h, kAxisColor, 0.5);

  // Only ticks inside the range: a colour bar cannot extend past its colours.
  std::vector<double> ticks;
  const double tolerance = 1e-9 * std::max(std::abs(lo), std::abs(hi));
  if (hi > lo)
    for (const double t : niceTicks(lo, hi, 5))
      if (t >= lo - tolerance && t <= hi + tolerance) ticks.push_back(t);
  if (ticks.size() < 2) ticks = {lo, hi};
  std::vector<std::string> labels = tickLabels(ticks);
  const auto position = [&](double v) { return hi > lo ? (v - lo) / (hi - lo) : 0.0; };
  double widest = 0.0;
  for (size_t i = 0; i < ticks.size(); ++i) {
    const double t = position(ticks[i]);
    if (vertical) {
      const double ty = y + h - t * h;
      canvas.line(x + w, ty, x + w + kTickLengthPt, ty, kAxisColor, 0.6);
      canvas.text(x + w + kTickLengthPt + kTickGapPt, ty + kDigitCentre * kTickFontPt, labels[i],
                  kTickFontPt, kAxisColor);
      widest = std::max(widest, canvas.textWidth(labels[i], kTickFontPt));
    } else {
      const double tx = x + t * w;
      canvas.line(tx, y + h, tx, y + h + kTickLengthPt, kAxisColor, 0.6);
      canvas.text(tx, y + h + kTickLengthPt + kTickGapPt + kAscent * kTickFontPt, labels[i],
                  kTickFontPt, kAxisColor, TextAlign::Center);
    }
  }
  if (label.empty()) return;
  if (vertical) {
    // Rotated to read bottom to top; its baseline is on the far side from the tick labels.
    // Never longer than the bar: bars stacked in one column keep their labels apart.
    const double width = canvas.textWidth(label, kLabelFontPt);
    const double size = width > h ? kLabelFontPt * h / width : kLabelFontPt;
    const double lx = x + w + kTickLengthPt + kTickGapPt + widest + kLabelGapPt + kAscent * size;
    canvas.text(lx, y + h / 2.0, label, size, kAxisColor, TextAlign::Center, 90.0);
  } else {
    const double ly = y + h + kTickLengthPt + kTickGapPt + (kAscent + kDescent) * kTickFontPt +
                      kLabelGapPt + kAscent * kLabelFontPt;
    canvas.text(x + w / 2.0, ly, label, kLabelFontPt, kAxisColor, TextAlign::Center);
  }
}

}  // namespace gatescope
