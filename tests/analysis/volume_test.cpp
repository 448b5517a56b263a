#include "analysis/core/volume.hpp"

#include <catch2/catch.hpp>

#include "analysis/core/image.hpp"
#include "analysis/core/image_statistics.hpp"

using namespace gatescope;

namespace {
Geometry grid(int64_t nx, int64_t ny, int64_t nz) {
  Geometry g;
  g.dims = {nx, ny, nz};
  return g;
}
}  // namespace

TEST_CASE("i varies fastest, then j, k and channel", "[volume]") {
  Volume<int32_t> v(grid(4, 3, 2), 2);
  REQUIRE(v.size() == 4 * 3 * 2 * 2);
  int32_t n = 0;
  for (int64_t c = 0; c < 2; ++c)
    for (int64_t k = 0; k < 2; ++k)
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t i = 0; i < 4; ++i) v(i, j, k, c) = n++;
  for (int32_t m = 0; m < n; ++m) CHECK(v.values()[static_cast<size_t>(m)] == m);
  CHECK(v.channel(1)[0] == 24);
  CHECK(v(3, 2, 1, 0) == 23);
}

TEST_CASE("a volume refuses data that does not fit its geometry", "[volume]") {
  CHECK_THROWS_AS(Volume<float>(grid(2, 2, 2), 1, std::vector<float>(7)), GeometryError);
  CHECK_THROWS_AS(Volume<float>(grid(0, 2, 2)), GeometryError);
  CHECK_THROWS_AS(Volume<float>(grid(2, 2, 2), 0), GeometryError);
  CHECK_NOTHROW(Volume<float>(grid(2, 2, 2), 2, std::vector<float>(16)));
}

TEST_CASE("scaled values apply slope and intercept", "[volume]") {
  Volume<int16_t> raw(grid(3, 1, 1));
  raw(0, 0, 0) = -4;
  raw(1, 0, 0) = 0;
  raw(2, 0, 0) = 10;
  Image image = makeImage(raw);
  image.header.scaling = {0.5, -10.0};
  const Volume<double> real = toDoubleVolume(image);
  CHECK(real(0, 0, 0) == -12.0);
  CHECK(real(1, 0, 0) == -10.0);
  CHECK(real(2, 0, 0) == -5.0);
  CHECK(toFloatVolume(image)(2, 0, 0) == -5.0f);
}

TEST_CASE("label conversion accepts integral floats and rejects fractions", "[volume]") {
  Volume<float> v(grid(3, 1, 1));
  v(0, 0, 0) = 0.0f;
  v(1, 0, 0) = 2.0f;
  v(2, 0, 0) = 1.0f;
  const Volume<int32_t> labels = toLabelVolume(makeImage(v), "labels.nii.gz");
  CHECK(labels(1, 0, 0) == 2);
  v(2, 0, 0) = 0.5f;
  CHECK_THROWS_WITH(toLabelVolume(makeImage(v), "labels.nii.gz"),
                    Catch::Contains("labels.nii.gz") && Catch::Contains("non-integer"));
}

TEST_CASE("statistics count labels and skip non-finite values", "[volume]") {
  Volume<uint8_t> labels(grid(2, 2, 1));
  labels(0, 0, 0) = 0;
  labels(1, 0, 0) = 2;
  labels(0, 1, 0) = 2;
  labels(1, 1, 0) = 7;
  const ImageStatistics s = computeStatistics(makeImage(labels));
  CHECK(s.has_labels);
  CHECK(s.labels == std::map<int64_t, int64_t>{{0, 1}, {2, 2}, {7, 1}});
  CHECK(s.min == 0.0);
  CHECK(s.max == 7.0);
  CHECK(s.mean == Approx(11.0 / 4.0));

  Volume<double> real(grid(4, 1, 1));
  real(0, 0, 0) = std::nan("");
  real(1, 0, 0) = 1.0;
  real(2, 0, 0) = 3.0;
  real(3, 0, 0) = -HUGE_VAL;
  const ImageStatistics r = computeStatistics(makeImage(real));
  CHECK_FALSE(r.has_labels);
  CHECK(r.n_nan == 1);
  CHECK(r.n_inf == 1);
  CHECK(r.mean == 2.0);
}
