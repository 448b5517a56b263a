#include "renderers/window_level.hpp"

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

struct PresetEntry {
  const char* name;
  const char* description;
  double center, width;  // fixed windows
  double lower, upper;   // percentile windows (when width == 0)
};

constexpr PresetEntry kPresets[] = {
    {"ct-abdomen", "CT abdomen, level 40 HU, width 400 HU", 40, 400, 0, 0},
    {"ct-soft-tissue", "CT soft tissue, level 50 HU, width 350 HU", 50, 350, 0, 0},
    {"ct-liver", "CT liver, level 60 HU, width 160 HU", 60, 160, 0, 0},
    {"ct-bone", "CT bone, level 400 HU, width 1800 HU", 400, 1800, 0, 0},
    {"ct-lung", "CT lung, level -600 HU, width 1500 HU", -600, 1500, 0, 0},
    {"mr-auto", "MR: 1st to 99th percentile of the image", 0, 0, 1, 99},
    {"auto", "0.5th to 99.5th percentile of the image", 0, 0, 0.5, 99.5},
    {"minmax", "the image's minimum to maximum", 0, 0, 0, 100},
};

}  // namespace

std::vector<WindowPreset> windowPresets() {
  std::vector<WindowPreset> presets;
  for (const auto& p : kPresets) presets.push_back({p.name, p.description});
  return presets;
}

WindowLevel windowFromPreset(std::string_view name, const Volume<float>& image) {
  for (const auto& p : kPresets)
    if (name == p.name)
      return p.width > 0 ? WindowLevel{p.center, p.width}
                         : percentileWindow(image, p.lower, p.upper);
  std::string known;
  for (const auto& p : kPresets) known += (known.empty() ? "" : ", ") + std::string(p.name);
  throw UsageError("unknown window preset '" + std::string(name) + "' (presets: " + known + ")");
}

WindowLevel defaultWindow(const Volume<float>& image) {
  return windowFromPreset(
      percentileWindow(image, 1.0, 99.0).lo() < -500.0 ? "ct-abdomen" : "mr-auto", image);
}

WindowLevel percentileWindow(const Volume<float>& image, double lower, double upper,
                             int64_t channel) {
  if (!(lower >= 0 && lower < upper && upper <= 100))
    throw UsageError("percentile window needs 0 <= lower < upper <= 100");
  const auto values = image.channel(channel);
  const size_t step = std::max<size_t>(1, values.size() / (1u << 20));
  std::vector<float> sample;
  sample.reserve(values.size() / step + 1);
  for (size_t v = 0; v < values.size(); v += step)
    if (std::isfinite(values[v])) sample.push_back(values[v]);
  if (sample.empty()) return {0.0, 1.0};
  // Linear interpolation between order statistics, as numpy.percentile's default does.
  auto percentile = [&](double q) {
    const double position = q / 100.0 * static_cast<double>(sample.size() - 1);
    const auto below = static_cast<size_t>(std::floor(position));
    std::nth_element(sample.begin(), sample.begin() + static_cast<std::ptrdiff_t>(below),
                     sample.end());
    const double a = sample[below];
    if (below + 1 >= sample.size()) return a;
    const double b =
        *std::min_element(sample.begin() + static_cast<std::ptrdiff_t>(below) + 1, sample.end());
    return a + (position - static_cast<double>(below)) * (b - a);
  };
  const double lo = percentile(lower), hi = percentile(upper);
  if (!(hi > lo)) return {lo, 1.0};
  return WindowLevel::fromRange(lo, hi);
}

}  // namespace gatescope
