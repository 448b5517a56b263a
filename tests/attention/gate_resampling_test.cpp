// Gate maps interpolated onto the input grid against PyTorch's F.interpolate
// (tests/fixtures/attention_reference.py, resampling.json).
#include "analysis/attention/gate_resampling.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "tests/support/test_support.hpp"

using namespace gatescope;

namespace {
std::vector<float> readFloats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<float> values(std::filesystem::file_size(path) / sizeof(float));
  in.read(reinterpret_cast<char*>(values.data()),
          static_cast<std::streamsize>(values.size() * sizeof(float)));
  return values;
}
Index3 index3(const nlohmann::json& j) {
  return {j[0].get<int64_t>(), j[1].get<int64_t>(), j[2].get<int64_t>()};
}
}  // namespace

TEST_CASE("gate maps resample onto the input grid as PyTorch interpolates them", "[attention]") {
  const auto dir = test::fixtureDir("attention");
  std::ifstream in(dir / "resampling.json");
  REQUIRE(in.good());
  for (const auto& c : nlohmann::json::parse(in)) {
    const std::string name = c["name"];
    DYNAMIC_SECTION(name) {
      Geometry native;
      native.dims = index3(c["shape"]);
      const int64_t channels = c["channels"];
      const Volume<float> alpha(native, channels, readFloats(dir / (name + "_in.f32")));
      Geometry grid;
      grid.dims = index3(c["keep"]);
      grid.spacing_mm = {0.7, 0.9, 2.0};
      const Volume<float> got =
          interpolateLinear(alpha, index3(c["target"]), grid, c["align_corners"]);
      const std::vector<float> want = readFloats(dir / (name + "_out.f32"));
      REQUIRE(got.dims() == grid.dims);
      REQUIRE(got.channels() == channels);
      REQUIRE(got.geometry().spacing_mm == grid.spacing_mm);
      REQUIRE(static_cast<size_t>(got.voxelsPerChannel() * channels) == want.size());
      double worst = 0;
      for (size_t n = 0; n < want.size(); ++n)
        worst = std::max(worst, std::abs(double(got.data()[n]) - want[n]));
      CHECK(worst < 1e-6);
    }
  }
}

TEST_CASE("gate resampling refuses a target smaller than what it keeps", "[attention]") {
  Geometry native;
  native.dims = {4, 4, 4};
  Geometry grid;
  grid.dims = {9, 8, 8};
  CHECK_THROWS_AS(interpolateLinear(Volume<float>(native), {8, 8, 8}, grid, false), GeometryError);
}

TEST_CASE("nearest resampling takes the source voxel nearest each target centre, NaN outside",
          "[attention]") {
  // A 2x2 source of 2 mm voxels whose centres sit at 0.5 and 2.5 mm; a 5x4 target of 1 mm voxels
  // from 0 mm. Target x = 0..3 falls on source 0, 0, 1, 1 (-0.25, 0.25, 0.75, 1.25 rounded); x = 4
  // (source index 1.75 -> 2) lies outside.
  Geometry source_grid;
  source_grid.dims = {2, 2, 1};
  source_grid.spacing_mm = {2, 2, 1};
  source_grid.origin = {0.5, 0.5, 0};
  Volume<float> source(source_grid);
  for (int64_t j = 0; j < 2; ++j)
    for (int64_t i = 0; i < 2; ++i) source(i, j, 0) = static_cast<float>(10 * i + j);
  Geometry target;
  target.dims = {5, 4, 1};
  const Volume<float> out = resampleNearest(source, target);
  CHECK(out.geometry().sameGrid(target));
  const int nearest[] = {0, 0, 1, 1};
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 5; ++x) {
      INFO("x " << x << " y " << y);
      if (x == 4)
        CHECK(std::isnan(out(x, y, 0)));
      else
        CHECK(out(x, y, 0) == static_cast<float>(10 * nearest[x] + nearest[y]));
    }
}
