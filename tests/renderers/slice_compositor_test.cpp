// Slice compositing, pixel by pixel, on volumes small enough to work out every expected pixel by
// hand: orientation from the direction matrix, physical aspect, nearest and linear sampling, window
// and colour map, overlays with threshold and opacity, label contours and fills.
#include "renderers/slice_compositor.hpp"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "analysis/core/error.hpp"

using namespace gatescope;

namespace {

// LPS voxel order (as DICOM and the synthetic abdomen store it): i towards the patient's left,
// j posterior, k superior - the axial picture shows it as stored.
Geometry lpsGrid(Index3 dims, Vec3 spacing = {1, 1, 1}) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  g.direction = {{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}};
  return g;
}

Geometry rasGrid(Index3 dims, Vec3 spacing = {1, 1, 1}) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = spacing;
  return g;
}

// Gray through a window of 0..256: a value v shows as gray floor(v).
SliceScene grayScene(const Volume<float>& image,
                     Interpolation interpolation = Interpolation::Nearest) {
  SliceScene scene;
  scene.image.volume = &image;
  scene.image.lo = 0.0;
  scene.image.hi = 256.0;
  scene.image.interpolation = interpolation;
  return scene;
}

uint8_t gray(const RgbaImage& picture, int x, int y) {
  const Rgba c = picture.at(x, y);
  REQUIRE(c.r == c.g);
  REQUIRE(c.g == c.b);
  REQUIRE(c.a == 255);
  return c.r;
}

}  // namespace

TEST_CASE("frames follow the radiological convention from the direction matrix", "[slice]") {
  const SliceFrame lps = sliceFrame(lpsGrid({4, 3, 2}), Plane::Axial);
  CHECK(lps.axis_x == 0);
  CHECK(lps.axis_y == 1);
  CHECK(lps.axis_normal == 2);
  CHECK_FALSE(lps.flip_x);
  CHECK_FALSE(lps.flip_y);
  const SliceFrame ras = sliceFrame(rasGrid({4, 3, 2}), Plane::Axial);
  CHECK(ras.flip_x);  // i runs to the patient's right, shown on the picture's left
  CHECK(ras.flip_y);  // j runs anterior, shown at the top
  const SliceFrame coronal = sliceFrame(lpsGrid({4, 3, 2}), Plane::Coronal);
  CHECK(coronal.axis_x == 0);
  CHECK(coronal.axis_y == 2);
  CHECK(coronal.axis_normal == 1);
  CHECK(coronal.flip_y);  // k runs superior, shown at the top
  const SliceFrame sagittal = sliceFrame(lpsGrid({4, 3, 2}), Plane::Sagittal);
  CHECK(sagittal.axis_x == 1);
  CHECK_FALSE(sagittal.flip_x);  // j runs posterior, anterior shown on the left
  CHECK(sagittal.axis_y == 2);
  CHECK(sagittal.axis_normal == 0);
  // Voxel axes stored in another order (k fastest along x, i along z): found by direction.
  Geometry permuted = rasGrid({5, 6, 7}, {3, 2, 1});
  permuted.direction = {{{0, 0, 1}, {0, 1, 0}, {1, 0, 0}}};
  const SliceFrame p = sliceFrame(permuted, Plane::Axial);
  CHECK(p.axis_x == 2);
  CHECK(p.axis_y == 1);
  CHECK(p.axis_normal == 0);
  CHECK(p.columns == 7);
  CHECK(p.spacing_x == 1.0);
  CHECK(p.slices == 5);
  CHECK(p.spacing_normal == 3.0);
}

TEST_CASE("nearest sampling shows each voxel where the convention puts it", "[slice]") {
  // RAS grid: the axial picture flips both axes. Value 10*i + 100*j + k.
  Volume<float> image(rasGrid({4, 3, 2}));
  for (int k = 0; k < 2; ++k)
    for (int j = 0; j < 3; ++j)
      for (int i = 0; i < 4; ++i) image(i, j, k) = static_cast<float>(10 * i + 70 * j + k);
  SliceScene scene = grayScene(image);
  scene.slice = 1;
  const RgbaImage picture = composeSlice(scene);
  REQUIRE(picture.width == 4);
  REQUIRE(picture.height == 3);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 4; ++x) CHECK(gray(picture, x, y) == 10 * (3 - x) + 70 * (2 - y) + 1);
  // The middle slice by default: 2 / 2 = 1.
  scene.slice = -1;
  CHECK(gray(composeSlice(scene), 0, 0) == 30 + 140 + 1);
}

TEST_CASE("anisotropic voxels keep their physical aspect", "[slice]") {
  // 3 x 2 voxels of 1 x 2.5 mm: a picture of 1 mm pixels is 3 x 5.
  Volume<float> image(lpsGrid({3, 2, 1}, {1.0, 2.5, 1.0}));
  image(0, 0, 0) = 10, image(1, 0, 0) = 20, image(2, 0, 0) = 30;
  image(0, 1, 0) = 110, image(1, 1, 0) = 120, image(2, 1, 0) = 130;
  const RgbaImage picture = composeSlice(grayScene(image));
  REQUIRE(picture.width == 3);
  REQUIRE(picture.height == 5);
  // Row y's centre lies at (y + 0.5) mm, in voxel units (y + 0.5) / 2.5 - 0.5: rows 0-1 -> j 0
  // (-0.3, 0.1), row 2 -> 0.5 rounds to j 1, rows 3-4 -> j 1.
  const int expected_j[5] = {0, 0, 1, 1, 1};
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 3; ++x) CHECK(gray(picture, x, y) == 10 * (x + 1) + 100 * expected_j[y]);
  // A coarser pixel: 2.5 mm -> 1 x 2 pixels (3 mm / 2.5 rounds to 1).
  SliceScene coarse = grayScene(image);
  coarse.pixel_mm = 2.5;
  const RgbaImage small = composeSlice(coarse);
  CHECK(small.width == 1);
  CHECK(small.height == 2);
}

TEST_CASE("linear sampling interpolates between voxel centres", "[slice]") {
  Volume<float> image(lpsGrid({2, 2, 1}, {1.0, 2.0, 1.0}));
  image(0, 0, 0) = 0, image(1, 0, 0) = 100;
  image(0, 1, 0) = 200, image(1, 1, 0) = 40;
  const RgbaImage picture = composeSlice(grayScene(image, Interpolation::Linear));
  REQUIRE(picture.width == 2);
  REQUIRE(picture.height == 4);
  // Rows: v = (y + 0.5) / 2 - 0.5 = -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
  CHECK(gray(picture, 0, 0) == 0);
  CHECK(gray(picture, 1, 0) == 100);
  CHECK(gray(picture, 0, 1) == 50);   // 0 + 0.25 * 200
  CHECK(gray(picture, 1, 1) == 85);   // 100 + 0.25 * (40 - 100)
  CHECK(gray(picture, 0, 2) == 150);  // 0 + 0.75 * 200
  CHECK(gray(picture, 1, 2) == 55);   // 100 + 0.75 * (40 - 100)
  CHECK(gray(picture, 0, 3) == 200);
  CHECK(gray(picture, 1, 3) == 40);
}

TEST_CASE("window and colour map of the base image", "[slice]") {
  Volume<float> image(lpsGrid({3, 1, 1}));
  image(0, 0, 0) = -1000, image(1, 0, 0) = 40, image(2, 0, 0) = 1000;
  SliceScene scene;
  scene.image.volume = &image;
  scene.image.lo = -160;  // CT abdomen: level 40, width 400
  scene.image.hi = 240;
  scene.image.colormap = ColormapName::Viridis;
  const RgbaImage picture = composeSlice(scene);
  CHECK(picture.at(0, 0) == colormap(ColormapName::Viridis).table[0]);
  CHECK(picture.at(1, 0) == colormap(ColormapName::Viridis).table[128]);
  CHECK(picture.at(2, 0) == colormap(ColormapName::Viridis).table[255]);
}

TEST_CASE("overlays: threshold, opacity and NaN", "[slice]") {
  Volume<float> image(lpsGrid({4, 1, 1}), 1, 100.0f);
  Volume<float> gate(lpsGrid({4, 1, 1}));
  gate(0, 0, 0) = 0.1f, gate(1, 0, 0) = 0.5f, gate(2, 0, 0) = 1.0f;
  gate(3, 0, 0) = std::numeric_limits<float>::quiet_NaN();
  SliceScene scene = grayScene(image);
  ScalarLayer overlay;
  overlay.volume = &gate;
  overlay.colormap = ColormapName::Jet;
  overlay.lo = 0.0;
  overlay.hi = 1.0;
  overlay.opacity = 0.5;  // a = 128
  overlay.threshold = 0.3;
  scene.overlays.push_back(overlay);
  const RgbaImage picture = composeSlice(scene);
  const auto& jet = colormap(ColormapName::Jet).table;
  auto mix = [](int below, int above) {
    return static_cast<uint8_t>((below * 128 + above * 128) >> 8);
  };
  CHECK(picture.at(0, 0) == Rgba{100, 100, 100, 255});  // below the threshold: transparent
  const Rgba half = jet[128], top = jet[255];
  CHECK(picture.at(1, 0) == Rgba{mix(100, half.r), mix(100, half.g), mix(100, half.b), 255});
  CHECK(picture.at(2, 0) == Rgba{mix(100, top.r), mix(100, top.g), mix(100, top.b), 255});
  CHECK(picture.at(3, 0) == Rgba{100, 100, 100, 255});  // NaN: transparent
  // Opaque: the colour itself. Opacity 0.25 -> a = 64: (100 * 192 + c * 64) / 256.
  scene.overlays[0].opacity = 1.0;
  CHECK(composeSlice(scene).at(2, 0) == top);
  scene.overlays[0].opacity = 0.25;
  CHECK(composeSlice(scene).at(2, 0).r == static_cast<uint8_t>((100 * 192 + top.r * 64) >> 8));
}

TEST_CASE("label contours, fills and colours", "[slice]") {
  // A 3 x 3 block of label 2 in a 7 x 7 slice and a 1 x 1 label 1 in the corner.
  Volume<float> image(lpsGrid({7, 7, 1}), 1, 0.0f);
  Volume<int32_t> labels(lpsGrid({7, 7, 1}));
  for (int j = 2; j <= 4; ++j)
    for (int i = 2; i <= 4; ++i) labels(i, j, 0) = 2;
  labels(0, 0, 0) = 1;
  SliceScene scene = grayScene(image);
  LabelLayer contour;
  contour.labels = &labels;
  scene.labels.push_back(contour);
  RgbaImage picture = composeSlice(scene);
  const Rgba black{0, 0, 0, 255};
  for (int y = 0; y < 7; ++y)
    for (int x = 0; x < 7; ++x) {
      const bool ring = x >= 2 && x <= 4 && y >= 2 && y <= 4 && !(x == 3 && y == 3);
      const Rgba expected = ring ? labelColor(2) : (x == 0 && y == 0) ? labelColor(1) : black;
      INFO("pixel " << x << ", " << y);
      CHECK(picture.at(x, y) == expected);
    }
  CHECK(labelColor(1) == Rgba{255, 0, 0, 255});
  CHECK(labelColor(2) == Rgba{0, 255, 0, 255});
  // Two pixels thick: the centre is within 2 of the outside.
  scene.labels[0].thickness = 2;
  CHECK(composeSlice(scene).at(3, 3) == labelColor(2));
  // A fill in one colour at half opacity, only label 2.
  scene.labels[0] = LabelLayer{&labels, LabelStyle::Fill, Rgba{200, 100, 50, 255}, {2}, 0.5, 1};
  picture = composeSlice(scene);
  CHECK(picture.at(3, 3) == Rgba{100, 50, 25, 255});
  CHECK(picture.at(2, 4) == Rgba{100, 50, 25, 255});
  CHECK(picture.at(0, 0) == black);
  CHECK(picture.at(5, 5) == black);
}

TEST_CASE("slice mapping round-trips picture and voxel coordinates", "[slice]") {
  const Geometry g = rasGrid({10, 8, 6}, {0.8, 0.8, 2.5});
  for (Plane plane : {Plane::Axial, Plane::Coronal, Plane::Sagittal}) {
    const SliceMapping m = sliceMapping(g, plane, 2);
    const Vec3 voxel = m.voxelAt(3.5, 1.5);
    const auto [x, y] = m.pictureAt(voxel);
    CHECK(x == Approx(3.5));
    CHECK(y == Approx(1.5));
    CHECK(voxel[m.frame.axis_normal] == 2.0);
  }
  // Coronal of 0.8 x 2.5 mm voxels at 0.8 mm pixels: 10 columns, 6 * 2.5 / 0.8 = 18.75 -> 19 rows.
  const SliceMapping coronal = sliceMapping(g, Plane::Coronal);
  CHECK(coronal.width == 10);
  CHECK(coronal.height == 19);
  CHECK(coronal.slice == 4);
}

TEST_CASE("bad scenes are refused with the reason", "[slice]") {
  Volume<float> image(lpsGrid({4, 4, 2}));
  Volume<float> other(lpsGrid({4, 4, 3}));
  SliceScene scene = grayScene(image);
  scene.slice = 2;
  CHECK_THROWS_WITH(composeSlice(scene), Catch::Contains("axial slice 2 is out of range (0 to 1)"));
  scene.slice = 0;
  ScalarLayer misplaced;
  misplaced.volume = &other;
  scene.overlays.push_back(misplaced);
  CHECK_THROWS_AS(composeSlice(scene), GeometryError);
  CHECK_THROWS_WITH(composeSlice(scene), Catch::Contains("overlay 1 lies on 4x4x3"));
  scene.overlays[0].volume = &image;
  scene.overlays[0].channel = 1;
  CHECK_THROWS_WITH(composeSlice(scene),
                    Catch::Contains("overlay 1 has 1 channel(s), channel 1 asked for"));
  scene.overlays.clear();
  Volume<float> flat(lpsGrid({4, 4, 1}));
  SliceScene flat_scene = grayScene(flat);
  flat_scene.plane = Plane::Coronal;
  CHECK_THROWS_WITH(composeSlice(flat_scene), Catch::Contains("has no coronal plane"));
  CHECK_THROWS_AS(composeSlice(SliceScene{}), UsageError);
}
