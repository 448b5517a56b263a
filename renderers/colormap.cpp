#include "renderers/colormap.hpp"

#include "renderers/colormap_tables.hpp"

namespace gatescope {

namespace {

struct Entry {
  ColormapName name;
  const char* text;
  const uint8_t (*table)[3];
};

constexpr Entry kEntries[] = {
    {ColormapName::Gray, "gray", colormap_tables::kGray},
    {ColormapName::Jet, "jet", colormap_tables::kJet},
    {ColormapName::Viridis, "viridis", colormap_tables::kViridis},
    {ColormapName::Magma, "magma", colormap_tables::kMagma},
    {ColormapName::Inferno, "inferno", colormap_tables::kInferno},
    {ColormapName::Plasma, "plasma", colormap_tables::kPlasma},
    {ColormapName::Turbo, "turbo", colormap_tables::kTurbo},
    {ColormapName::Hot, "hot", colormap_tables::kHot},
    {ColormapName::Diverging, "diverging", colormap_tables::kDiverging},
};

const Entry& entry(ColormapName name) {
  return kEntries[static_cast<int>(name)];
}

Colormap build(ColormapName name) {
  Colormap map{name, {}};
  const auto* table = entry(name).table;
  for (int i = 0; i < 256; ++i) map.table[i] = {table[i][0], table[i][1], table[i][2], 255};
  return map;
}

}  // namespace

const Colormap& colormap(ColormapName name) {
  static const auto maps = [] {
    std::array<Colormap, std::size(kEntries)> all{};
    for (const auto& e : kEntries) all[static_cast<int>(e.name)] = build(e.name);
    return all;
  }();
  return maps[static_cast<int>(name)];
}

const char* colormapName(ColormapName name) {
  return entry(name).text;
}

std::optional<ColormapName> parseColormapName(std::string_view name) {
  for (const auto& e : kEntries)
    if (name == e.text) return e.name;
  return std::nullopt;
}

std::vector<std::string> colormapNames() {
  std::vector<std::string> names;
  for (const auto& e : kEntries) names.emplace_back(e.text);
  return names;
}

int colormapIndex(double value, double lo, double hi) {
  return ColorScale(lo, hi).index(value);
}

Rgba mapColor(const Colormap& map, double value, double lo, double hi) {
  return map.table[colormapIndex(value, lo, hi)];
}

}  // namespace gatescope
