#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "renderers/rgba_image.hpp"

namespace gatescope {

// The colour maps of the renderers: 256 entries each, the same tables as matplotlib's maps of
// these names (gray, jet, viridis, magma, inferno, plasma, turbo, hot) and, for differences,
// "diverging" = matplotlib's RdBu_r (blue for negative, white at the centre, red for positive).
enum class ColormapName { Gray, Jet, Viridis, Magma, Inferno, Plasma, Turbo, Hot, Diverging };

struct Colormap {
  ColormapName name;
  std::array<Rgba, 256> table;  // alpha 255
};

[[nodiscard]] const Colormap& colormap(ColormapName name);
[[nodiscard]] const char* colormapName(ColormapName name);
// "viridis" -> Viridis; std::nullopt for an unknown name.
[[nodiscard]] std::optional<ColormapName> parseColormapName(std::string_view name);
[[nodiscard]] std::vector<std::string> colormapNames();

// Maps `value` within [lo, hi] to a table entry as matplotlib's Normalize + Colormap do:
// index = floor((value - lo) * (256 / (hi - lo))) clamped to 0..255 (value >= hi -> 255, value < lo
// -> 0). NaN maps to index 0 here; layers treat NaN as transparent.
[[nodiscard]] int colormapIndex(double value, double lo, double hi);

// colormapIndex with the division done once, for loops over pixels (same results).
struct ColorScale {
  double lo = 0.0, hi = 1.0, to_index = 256.0;
  ColorScale(double lo_, double hi_)
      : lo(lo_), hi(hi_), to_index(hi_ > lo_ ? 256.0 / (hi_ - lo_) : 0.0) {}
  [[nodiscard]] int index(double value) const {
    if (to_index == 0.0) return value >= hi ? 255 : 0;  // an empty window: a step at `hi`
    double position = (value - lo) * to_index;
    position = position > 0.0 ? position : 0.0;  // below the window, or NaN
    return static_cast<int>(position < 255.0 ? position : 255.0);
  }
};
[[nodiscard]] Rgba mapColor(const Colormap& map, double value, double lo, double hi);

}  // namespace gatescope
