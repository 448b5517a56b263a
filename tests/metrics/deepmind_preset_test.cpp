// The deepmind preset: the surfel area table on analytic shapes, and the values
// surface-distance's own tests assert (surface_distance_test.py).
#include <catch2/catch.hpp>
#include <cmath>

#include "analysis/metrics/metric_suite.hpp"
#include "analysis/metrics/surfels.hpp"

using namespace gatescope;

namespace {

Image labelImage(const Index3& dims, const Vec3& spacing, const std::vector<Index3>& inside_from,
                 const std::vector<Index3>& inside_to) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  Volume<uint8_t> v(g);
  for (size_t box = 0; box < inside_from.size(); ++box)
    for (int64_t k = inside_from[box][2]; k < inside_to[box][2]; ++k)
      for (int64_t j = inside_from[box][1]; j < inside_to[box][1]; ++j)
        for (int64_t i = inside_from[box][0]; i < inside_to[box][0]; ++i) v(i, j, k) = 1;
  return makeImage(std::move(v));
}

LabelMetrics deepmind(const Image& reference, const Image& prediction,
                      std::vector<double> tolerances = {1.0}) {
  MetricConfig config;
  config.preset = MetricPreset::DeepMind;
  config.tolerances_mm = tolerances;
  config.labels = std::vector<int64_t>{1};
  return computeMetrics(reference, prediction, config, "reference", "prediction").front();
}

// Marching-cubes surface area of an n0 x n1 x n2 box of voxels: flat faces half a voxel outside
// the outer voxel centres, 45-degree chamfers along the edges, a triangle at each corner.
double boxSurfaceArea(const Index3& n, const Vec3& s) {
  const double a = static_cast<double>(n[0] - 1) * s[0], b = static_cast<double>(n[1] - 1) * s[1],
               c = static_cast<double>(n[2] - 1) * s[2];
  const double faces = 2 * (b * c + a * c + a * b);
  const double chamfers = 4 * (c * 0.5 * std::hypot(s[0], s[1]) + b * 0.5 * std::hypot(s[0], s[2]) +
                               a * 0.5 * std::hypot(s[1], s[2]));
  const double corners =
      8 * 0.125 *
      std::sqrt(std::pow(s[1] * s[2], 2) + std::pow(s[0] * s[2], 2) + std::pow(s[0] * s[1], 2));
  return faces + chamfers + corners;
}

}  // namespace

TEST_CASE("surfel areas: single corners, planes, and a box's analytic surface", "[metrics]") {
  const auto unit = surfelAreaTable({1, 1, 1});
  CHECK(unit[0] == 0.0);
  CHECK(unit[255] == 0.0);
  CHECK(unit[1] == Approx(std::sqrt(3.0) / 8.0));    // corner triangle, side sqrt(2)/2
  CHECK(unit[254] == Approx(std::sqrt(3.0) / 8.0));  // its complement
  CHECK(unit[15] == Approx(1.0));                    // a plane across the cell
  CHECK(unit[3] == Approx(std::sqrt(2.0) / 2.0));    // a 45-degree strip
  double total = 0;
  for (double a : unit) total += a;
  CHECK(total == Approx(241.34313970553737));  // the library's table, summed
  const auto aniso = surfelAreaTable({3, 2, 1});
  CHECK(aniso[1] == Approx(0.875));
  CHECK(aniso[15] == Approx(2.0));
  CHECK(aniso[23] == Approx(5.25));

  for (const Vec3 s : {Vec3{1, 1, 1}, Vec3{0.7, 1.3, 2.9}}) {
    const Index3 n = {5, 4, 3};
    const auto table = surfelAreaTable(s);
    // Sum the table over every 2x2x2 cell of a box padded by one background voxel.
    auto inside = [&](int64_t i, int64_t j, int64_t k) {
      return i >= 1 && i <= n[0] && j >= 1 && j <= n[1] && k >= 1 && k <= n[2];
    };
    double area = 0;
    for (int64_t k = 1; k <= n[2] + 1; ++k)
      for (int64_t j = 1; j <= n[1] + 1; ++j)
        for (int64_t i = 1; i <= n[0] + 1; ++i) {
          int code = 0;
          for (int b = 0; b < 8; ++b)
            code |= inside(i - (b >> 2 & 1), j - (b >> 1 & 1), k - (b & 1)) << b;
          area += table[static_cast<size_t>(code)];
        }
    CHECK(area == Approx(boxSurfaceArea(n, s)).epsilon(1e-12));
  }
}

TEST_CASE("deepmind preset reproduces surface-distance's test values", "[metrics]") {
  SECTION("3D, one voxel each, spacing (3, 2, 1)") {
    const auto m = deepmind(labelImage({10, 10, 10}, {3, 2, 1}, {{5, 5, 3}}, {{6, 6, 4}}),
                            labelImage({10, 10, 10}, {3, 2, 1}, {{5, 5, 5}}, {{6, 6, 6}}));
    CHECK(m.asd_reference_to_prediction_mm == Approx(1.5));
    CHECK(m.asd_prediction_to_reference_mm == Approx(1.5));
    CHECK(m.hd_mm == Approx(2.0));
    CHECK(m.hd_percentile_mm == Approx(2.0));
    CHECK(m.nsd[0] == Approx(0.5));
    CHECK(m.dice == 0.0);
  }
  SECTION("2D, one pixel each, spacing (2, 1)") {
    const auto m = deepmind(labelImage({20, 20, 1}, {2, 1, 1}, {{10, 5, 0}}, {{11, 6, 1}}),
                            labelImage({20, 20, 1}, {2, 1, 1}, {{10, 7, 0}}, {{11, 8, 1}}));
    CHECK(m.asd_reference_to_prediction_mm == Approx(1.5));
    CHECK(m.asd_prediction_to_reference_mm == Approx(1.5));
    CHECK(m.hd_mm == Approx(2.0));
    CHECK(m.nsd[0] == Approx(0.5));
  }
  SECTION("3D slabs touching the image edge, spacing (2, 1, 1)") {
    const auto m = deepmind(labelImage({100, 100, 100}, {2, 1, 1}, {{0, 0, 0}}, {{50, 100, 100}}),
                            labelImage({100, 100, 100}, {2, 1, 1}, {{0, 0, 0}}, {{51, 100, 100}}));
    CHECK(m.asd_reference_to_prediction_mm == Approx(0.322).margin(5e-4));
    CHECK(m.asd_prediction_to_reference_mm == Approx(0.339).margin(5e-4));
    CHECK(m.hd_mm == Approx(2.0));
    CHECK(m.hd_percentile_mm == Approx(2.0));
    CHECK(m.nsd[0] == Approx(0.836).margin(5e-4));
    CHECK(m.dice == Approx(0.990).margin(5e-4));
  }
  SECTION("empty masks") {
    const Image some = labelImage({6, 6, 6}, {1, 1, 1}, {{2, 2, 2}}, {{4, 4, 4}});
    const Image none = labelImage({6, 6, 6}, {1, 1, 1}, {}, {});
    const auto pred_empty = deepmind(some, none);
    CHECK(std::isinf(pred_empty.hd_mm));
    CHECK(std::isinf(pred_empty.asd_reference_to_prediction_mm));
    CHECK(std::isnan(pred_empty.asd_prediction_to_reference_mm));
    CHECK(pred_empty.nsd[0] == 0.0);
    const auto both = deepmind(none, none);
    CHECK(std::isinf(both.hd_mm));
    CHECK(std::isnan(both.nsd[0]));
    CHECK(std::isnan(both.dice));
  }
}
