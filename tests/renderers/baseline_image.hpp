#pragma once

// Baseline-image checks for renderer output (figures, plots, VTK pictures). Baselines live in
// tests/renderers/baselines/NAME.png. Run a test binary with GATESCOPE_UPDATE_BASELINES=1 to write
// them anew (then look at every changed picture before committing it). On a mismatch the actual
// picture and a difference picture go to the test output folder and the failure names them.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "renderers/rgba_image.hpp"
#include "tests/support/test_support.hpp"

namespace gatescope::test {

// A pixel "differs" when any of its R, G, B channels differs by more than `channel`. The images
// match when at most `fraction` of the pixels differ and the mean absolute channel difference is at
// most `mean`. Software OpenGL and font hinting vary a little between machines; geometry does not.
struct ImageTolerance {
  int channel = 24;
  double fraction = 0.005;
  double mean = 1.5;
};

inline std::filesystem::path baselinePath(const std::string& name) {
  return std::filesystem::path(GATESCOPE_SOURCE_DIR) / "tests" / "renderers" / "baselines" /
         (name + ".png");
}

inline void requireMatchesBaseline(const RgbaImage& actual, const std::string& name,
                                   ImageTolerance tolerance = {}) {
  const auto path = baselinePath(name);
  if (const char* update = std::getenv("GATESCOPE_UPDATE_BASELINES");
      update && std::string(update) == "1") {
    writeRgbaPng(path, actual);
    WARN("baseline written: " << path.string());
    return;
  }
  INFO("baseline " << path.string());
  REQUIRE(std::filesystem::exists(path));
  const RgbaImage expected = readRgbaPng(path);
  REQUIRE(actual.width == expected.width);
  REQUIRE(actual.height == expected.height);
  int64_t differing = 0;
  double sum = 0.0;
  RgbaImage difference(actual.width, actual.height);
  for (int y = 0; y < actual.height; ++y)
    for (int x = 0; x < actual.width; ++x) {
      const Rgba a = actual.at(x, y), e = expected.at(x, y);
      const int d = std::max({std::abs(a.r - e.r), std::abs(a.g - e.g), std::abs(a.b - e.b)});
      sum += std::abs(a.r - e.r) + std::abs(a.g - e.g) + std::abs(a.b - e.b);
      differing += d > tolerance.channel;
      const auto v = static_cast<uint8_t>(std::min(255, d * 4));
      difference.set(x, y, {v, v, v, 255});
    }
  const double pixels = static_cast<double>(actual.width) * actual.height;
  const double fraction = static_cast<double>(differing) / pixels, mean = sum / (3.0 * pixels);
  if (fraction > tolerance.fraction || mean > tolerance.mean) {
    const auto dir = scratchDir("baseline_mismatch_" + name);
    writeRgbaPng(dir / "actual.png", actual);
    writeRgbaPng(dir / "difference.png", difference);
    FAIL("differs from the baseline: "
         << fraction * 100.0 << "% of pixels beyond " << tolerance.channel << " (allowed "
         << tolerance.fraction * 100.0 << "%), mean difference " << mean << " (allowed "
         << tolerance.mean << "); see " << dir.string());
  }
}

}  // namespace gatescope::test
