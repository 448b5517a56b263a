#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

// The intensity range a picture shows: values from lo() to hi() spread over the colour map.
struct WindowLevel {
  double center = 0.0;
  double width = 1.0;
  [[nodiscard]] double lo() const { return center - width / 2.0; }
  [[nodiscard]] double hi() const { return center + width / 2.0; }
  [[nodiscard]] static WindowLevel fromRange(double lo, double hi) {
    return {(lo + hi) / 2.0, hi - lo};
  }
  friend bool operator==(const WindowLevel&, const WindowLevel&) = default;
};

// Named windows: fixed CT windows in Hounsfield units (ct-abdomen 40/400, ct-soft-tissue 50/350,
// ct-liver 60/160, ct-bone 400/1800, ct-lung -600/1500) and data-driven ones (mr-auto: 1st to 99th
// percentile, auto: 0.5th to 99.5th, minmax: the finite range).
struct WindowPreset {
  std::string name;
  std::string description;
};
[[nodiscard]] std::vector<WindowPreset> windowPresets();
// The window a preset gives for `image`; UsageError listing the presets for an unknown name.
[[nodiscard]] WindowLevel windowFromPreset(std::string_view name, const Volume<float>& image);

// The window an image opens with: ct-abdomen when it looks like CT (its 1st percentile is below
// -500, air in Hounsfield units), else mr-auto.
[[nodiscard]] WindowLevel defaultWindow(const Volume<float>& image);

// The `lower`..`upper` percentiles (0-100) of the finite values of one channel, from at most about
// a million evenly spaced voxels (exact for smaller volumes). A constant image gives a window of
// width 1 around its value.
[[nodiscard]] WindowLevel percentileWindow(const Volume<float>& image, double lower, double upper,
                                           int64_t channel = 0);

}  // namespace gatescope
