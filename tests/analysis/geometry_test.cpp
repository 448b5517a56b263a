#include "analysis/core/geometry.hpp"

#include <catch2/catch.hpp>
#include <cmath>

using gatescope::Affine;
using gatescope::Geometry;
using gatescope::Mat3;
using gatescope::Vec3;

TEST_CASE("affine is direction times spacing plus origin", "[volume]") {
  Geometry g;
  g.dims = {4, 5, 6};
  g.spacing_mm = {0.5, 2.0, 3.0};
  g.origin = {10.0, -20.0, 5.0};
  // 90 degrees about z: i -> +y, j -> -x
  g.direction = {{{0.0, -1.0, 0.0}, {1.0, 0.0, 0.0}, {0.0, 0.0, 1.0}}};
  const Affine a = g.affine();
  CHECK(a[0][0] == 0.0);
  CHECK(a[1][0] == 0.5);
  CHECK(a[0][1] == -2.0);
  CHECK(a[2][2] == 3.0);
  CHECK(a[0][3] == 10.0);
  CHECK(a[3][3] == 1.0);
  const auto world = g.indexToWorld({1.0, 1.0, 1.0});
  CHECK(world[0] == Approx(10.0 - 2.0));
  CHECK(world[1] == Approx(-20.0 + 0.5));
  CHECK(world[2] == Approx(5.0 + 3.0));
}

TEST_CASE("fromAffine recovers spacing, origin and a reflected direction", "[volume]") {
  Affine a{};
  a[0] = {0.0, 0.0, -2.5, 1.0};
  a[1] = {0.8, 0.0, 0.0, 2.0};
  a[2] = {0.0, 0.7, 0.0, 3.0};
  a[3] = {0.0, 0.0, 0.0, 1.0};
  const Geometry g = Geometry::fromAffine({3, 4, 5}, a);
  CHECK(g.spacing_mm[0] == Approx(0.8));
  CHECK(g.spacing_mm[1] == Approx(0.7));
  CHECK(g.spacing_mm[2] == Approx(2.5));
  CHECK(g.direction[0][2] == Approx(-1.0));
  CHECK(g.direction[1][0] == Approx(1.0));
  CHECK(g.origin == gatescope::Vec3{1.0, 2.0, 3.0});
  const Affine back = g.affine();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) CHECK(back[r][c] == Approx(a[r][c]).margin(1e-12));
}

TEST_CASE("sameGrid tolerates rounding but not real differences", "[volume]") {
  Geometry a;
  a.dims = {10, 10, 10};
  a.spacing_mm = {0.78125, 0.78125, 2.5};
  a.origin = {-200.0, -200.0, -300.0};
  Geometry b = a;
  b.spacing_mm[0] *= 1.0 + 1e-6;  // float32 rounding in a header
  b.origin[2] += 1e-4;
  CHECK(a.sameGrid(b));
  Geometry c = a;
  c.spacing_mm[2] = 3.0;
  CHECK_FALSE(a.sameGrid(c));
  Geometry d = a;
  d.dims[0] = 11;
  CHECK_FALSE(a.sameGrid(d));
  Geometry e = a;
  e.origin[0] += 1.0;
  CHECK_FALSE(a.sameGrid(e));
  Geometry f = a;
  f.direction[0][0] = -1.0;
  CHECK_FALSE(a.sameGrid(f));
}

TEST_CASE("inverse undoes a matrix, worldToIndex undoes indexToWorld", "[volume]") {
  const Mat3 m{{{2, 0, 0}, {0, 0, -3}, {0, 1, 0}}};
  const Mat3 expected{{{0.5, 0, 0}, {0, 0, 1}, {0, -1.0 / 3.0, 0}}};  // worked out by hand
  const Mat3 r = gatescope::inverse(m);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) CHECK(r[i][j] == Approx(expected[i][j]).margin(1e-12));

  Geometry lps;  // reflected axes, anisotropic spacing
  lps.dims = {20, 16, 8};
  lps.spacing_mm = {1, 1, 2};
  lps.origin = {10, 20, -5};
  lps.direction = {{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}};
  const Vec3 world = lps.indexToWorld({3, 4, 5});
  CHECK(world == Vec3{7, 16, 5});
  const Vec3 back = lps.worldToIndex({7, 16, 5});
  for (int a = 0; a < 3; ++a) CHECK(back[a] == Approx(Vec3{3, 4, 5}[a]));

  Geometry rotated;  // voxel axis i along world y, j along -x
  rotated.spacing_mm = {2, 3, 1};
  rotated.origin = {1, 1, 1};
  rotated.direction = {{{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}};
  const Vec3 at =
      rotated.worldToIndex({1 - 6, 1 + 2, 1});  // index (1, 2, 0): x -= 3 * 2, y += 2 * 1
  CHECK(at[0] == Approx(1.0));
  CHECK(at[1] == Approx(2.0));
  CHECK(at[2] == Approx(0.0).margin(1e-12));
}
