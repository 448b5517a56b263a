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
// t = (value - lo) / (hi - lo); index = floor(256 * t) clamped to 0..255 (t >= 1 -> 255,
// t < 0 -> 0). NaN maps to index 0 here; layers treat NaN as transparent.
[[nodiscard]] int colormapIndex(double value, double lo, double hi);
[[nodiscard]] Rgba mapColor(const Colormap& map, double value, double lo, double hi);

}  // namespace gatescope
