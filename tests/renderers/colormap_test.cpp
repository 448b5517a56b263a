// Colour maps and windows against published values: the first and last entries of matplotlib's maps
// (as its documentation and colour-map papers list them in hex) and the index rule written out.
#include "renderers/colormap.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "analysis/core/error.hpp"
#include "renderers/window_level.hpp"

using namespace gatescope;

namespace {
Rgba hex(uint32_t rgb) {
  return {static_cast<uint8_t>(rgb >> 16), static_cast<uint8_t>(rgb >> 8 & 0xff),
          static_cast<uint8_t>(rgb & 0xff), 255};
}
bool within1(Rgba a, Rgba b) {
  return std::abs(a.r - b.r) <= 1 && std::abs(a.g - b.g) <= 1 && std::abs(a.b - b.b) <= 1 &&
         a.a == b.a;
}
}  // namespace

TEST_CASE("colour maps have the published end colours", "[colormap]") {
  // viridis #440154 -> #fde725, magma #000004 -> #fcfdbf, inferno #000004 -> #fcffa4,
  // plasma #0d0887 -> #f0f921, turbo #30123b -> #7a0403, as published; the tables hold
  // matplotlib's bytes (value * 255 truncated), so a channel may sit one below.
  CHECK(within1(colormap(ColormapName::Viridis).table[0], hex(0x440154)));
  CHECK(within1(colormap(ColormapName::Viridis).table[255], hex(0xfde725)));
  CHECK(within1(colormap(ColormapName::Magma).table[0], hex(0x000004)));
  CHECK(within1(colormap(ColormapName::Magma).table[255], hex(0xfcfdbf)));
  CHECK(within1(colormap(ColormapName::Inferno).table[0], hex(0x000004)));
  CHECK(within1(colormap(ColormapName::Inferno).table[255], hex(0xfcffa4)));
  CHECK(within1(colormap(ColormapName::Plasma).table[0], hex(0x0d0887)));
  CHECK(within1(colormap(ColormapName::Plasma).table[255], hex(0xf0f921)));
  CHECK(within1(colormap(ColormapName::Turbo).table[0], hex(0x30123b)));
  CHECK(within1(colormap(ColormapName::Turbo).table[255], hex(0x7a0403)));
  // jet runs from dark blue (0, 0, 0.5) to dark red (0.5, 0, 0); hot from black to white.
  CHECK(colormap(ColormapName::Jet).table[0] == Rgba{0, 0, 127, 255});
  CHECK(colormap(ColormapName::Jet).table[255] == Rgba{127, 0, 0, 255});
  CHECK(colormap(ColormapName::Hot).table[0] == Rgba{10, 0, 0, 255});
  CHECK(colormap(ColormapName::Hot).table[255] == Rgba{255, 255, 255, 255});
  for (int i = 0; i < 256; ++i) {
    const auto v = static_cast<uint8_t>(i);
    REQUIRE(colormap(ColormapName::Gray).table[i] == Rgba{v, v, v, 255});
  }
  // The diverging map: blue below, near-white in the middle, red above.
  const auto& d = colormap(ColormapName::Diverging).table;
  CHECK(d[0].b > 2 * d[0].r);
  CHECK(d[255].r > 2 * d[255].b);
  CHECK(std::min({d[128].r, d[128].g, d[128].b}) >= 240);
}

TEST_CASE("values map to table entries as matplotlib's Normalize and Colormap do", "[colormap]") {
  CHECK(colormapIndex(0.0, 0.0, 1.0) == 0);
  CHECK(colormapIndex(0.2, 0.0, 1.0) == 51);  // 51.2
  CHECK(colormapIndex(0.25, 0.0, 1.0) == 64);
  CHECK(colormapIndex(0.5, 0.0, 1.0) == 128);
  CHECK(colormapIndex(0.999, 0.0, 1.0) == 255);  // 255.74
  CHECK(colormapIndex(1.0, 0.0, 1.0) == 255);
  CHECK(colormapIndex(7.0, 0.0, 1.0) == 255);
  CHECK(colormapIndex(-3.0, 0.0, 1.0) == 0);
  CHECK(colormapIndex(std::numeric_limits<double>::quiet_NaN(), 0.0, 1.0) == 0);
  CHECK(colormapIndex(40.0, -160.0, 240.0) == 128);  // CT abdomen window, its level
  CHECK(colormapIndex(5.0, 5.0, 5.0) == 255);        // an empty window is a step
  CHECK(colormapIndex(4.9, 5.0, 5.0) == 0);
  CHECK(mapColor(colormap(ColormapName::Gray), 0.5, 0.0, 1.0) == Rgba{128, 128, 128, 255});
}

TEST_CASE("colour map names round-trip and unknown names are refused", "[colormap]") {
  for (const auto& name : colormapNames()) {
    const auto parsed = parseColormapName(name);
    REQUIRE(parsed);
    CHECK(colormapName(*parsed) == name);
  }
  CHECK(colormapNames().size() == 9);
  CHECK_FALSE(parseColormapName("rainbow"));
}

TEST_CASE("window presets and percentile windows", "[colormap]") {
  Geometry g;
  g.dims = {101, 1, 1};
  Volume<float> ramp(g);
  for (int i = 0; i <= 100; ++i) ramp(i, 0, 0) = static_cast<float>(i);
  const WindowLevel abdomen = windowFromPreset("ct-abdomen", ramp);
  CHECK(abdomen.center == 40.0);
  CHECK(abdomen.width == 400.0);
  CHECK(abdomen.lo() == -160.0);
  CHECK(abdomen.hi() == 240.0);
  // numpy.percentile(range(101), [1, 99]) == [1, 99]; [0.5, 99.5] == [0.5, 99.5]
  const WindowLevel mr = windowFromPreset("mr-auto", ramp);
  CHECK(mr.lo() == Approx(1.0));
  CHECK(mr.hi() == Approx(99.0));
  const WindowLevel automatic = windowFromPreset("auto", ramp);
  CHECK(automatic.lo() == Approx(0.5));
  CHECK(automatic.hi() == Approx(99.5));
  const WindowLevel minmax = windowFromPreset("minmax", ramp);
  CHECK(minmax.lo() == 0.0);
  CHECK(minmax.hi() == 100.0);
  // NaN and infinity are left out.
  ramp(3, 0, 0) = std::numeric_limits<float>::quiet_NaN();
  ramp(4, 0, 0) = std::numeric_limits<float>::infinity();
  CHECK(windowFromPreset("minmax", ramp).hi() == 100.0);
  CHECK_THROWS_WITH(
      windowFromPreset("bone", ramp),
      Catch::Contains("unknown window preset 'bone'") && Catch::Contains("ct-abdomen"));
  // The opening window: CT (air at -1000 HU below the 1st percentile) gets the abdomen window.
  ramp(3, 0, 0) = 3.0f, ramp(4, 0, 0) = 4.0f;
  CHECK(defaultWindow(ramp).lo() == Approx(1.0));  // mr-auto
  Volume<float> ct = ramp;
  for (int i = 0; i < 10; ++i) ct(i, 0, 0) = -1000.0f;
  CHECK(defaultWindow(ct).center == 40.0);
  CHECK(defaultWindow(ct).width == 400.0);
  Volume<float> flat(g, 1, 7.0f);
  CHECK(percentileWindow(flat, 1, 99).lo() < 7.0);
  CHECK(percentileWindow(flat, 1, 99).hi() > 7.0);
}
