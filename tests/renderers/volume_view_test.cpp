// The VTK 3D view against geometry worked out by hand: synthetic volumes with blobs placed in
// patient terms (RAS+), checked for where and in what colour they land in the picture; plus
// baseline pictures. Runs under xvfb-run (software OpenGL).
#include "renderers/volume_view.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>

#include "analysis/core/error.hpp"
#include "renderers/colormap.hpp"
#include "tests/renderers/baseline_image.hpp"

using namespace gatescope;

namespace {

// 40x32x24 voxels of 1x1.25x2 mm, centred on the world origin: about 39 x 39 x 46 mm.
Geometry testGrid() {
  Geometry g;
  g.dims = {40, 32, 24};
  g.spacing_mm = {1.0, 1.25, 2.0};
  g.origin = {-19.5, -19.375, -23.0};
  return g;
}

// The same voxel centres stored with i and k reversed (a left-right and head-foot flip).
Geometry flippedGrid() {
  const Geometry plain = testGrid();
  Geometry g = plain;
  g.direction = {{{-1, 0, 0}, {0, 1, 0}, {0, 0, -1}}};
  g.origin = plain.indexToWorld({39.0, 0.0, 23.0});
  return g;
}

template <typename T>
Volume<T> fromWorld(const Geometry& g, const std::function<T(const Vec3&)>& value) {
  Volume<T> volume(g);
  for (int64_t k = 0; k < g.dims[2]; ++k)
    for (int64_t j = 0; j < g.dims[1]; ++j)
      for (int64_t i = 0; i < g.dims[0]; ++i)
        volume(i, j, k) = value(g.indexToWorld({double(i), double(j), double(k)}));
  return volume;
}

double distance(const Vec3& a, const Vec3& b) {
  return std::hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

// Balls of constant coefficient (centre in world mm, radius 7 mm), zero elsewhere.
struct Ball {
  Vec3 centre;
  float value = 1.0f;
};
Volume<float> gateWithBalls(const Geometry& g, const std::vector<Ball>& balls) {
  return fromWorld<float>(g, [&](const Vec3& w) {
    for (const auto& ball : balls)
      if (distance(w, ball.centre) < 7.0) return ball.value;
    return 0.0f;
  });
}

// Boxes of one label each (centre and half-size in world mm).
struct Box {
  Vec3 centre, half;
  int32_t label;
};
Volume<int32_t> labelsWithBoxes(const Geometry& g, const std::vector<Box>& boxes) {
  return fromWorld<int32_t>(g, [&](const Vec3& w) {
    for (const auto& box : boxes)
      if (std::abs(w[0] - box.centre[0]) < box.half[0] &&
          std::abs(w[1] - box.centre[1]) < box.half[1] &&
          std::abs(w[2] - box.centre[2]) < box.half[2])
        return box.label;
    return 0;
  });
}

// The pixels matching a predicate: how many and their centroid (x right, y down, in pixels).
struct Region {
  int count = 0;
  double x = 0.0, y = 0.0;
};
Region region(const RgbaImage& image, const std::function<bool(Rgba)>& wanted) {
  Region r;
  for (int y = 0; y < image.height; ++y)
    for (int x = 0; x < image.width; ++x)
      if (wanted(image.at(x, y))) r.count += 1, r.x += x, r.y += y;
  if (r.count > 0) r.x /= r.count, r.y /= r.count;
  return r;
}
bool lit(Rgba c) {
  return std::max({c.r, c.g, c.b}) > 40;
}
bool greenish(Rgba c) {
  return c.g > 40 && c.g > 2 * c.r && c.g > 2 * c.b;
}
bool gray(Rgba c) {
  return c.r == c.g && c.g == c.b && c.r > 0;
}

// Hue in degrees of an RGB colour.
double hue(double r, double g, double b) {
  const double hi = std::max({r, g, b}), lo = std::min({r, g, b}), chroma = hi - lo;
  if (chroma <= 0.0) return 0.0;
  double h = hi == r   ? std::fmod((g - b) / chroma + 6.0, 6.0)
             : hi == g ? (b - r) / chroma + 2.0
                       : (r - g) / chroma + 4.0;
  return h * 60.0;
}
double hueDistance(double a, double b) {
  const double d = std::abs(a - b);
  return std::min(d, 360.0 - d);
}
// Hue of the mean colour of the 5x5 pixels around (x, y).
double hueAround(const RgbaImage& image, double x, double y) {
  double r = 0, g = 0, b = 0;
  for (int dy = -2; dy <= 2; ++dy)
    for (int dx = -2; dx <= 2; ++dx) {
      const Rgba c = image.at(static_cast<int>(x) + dx, static_cast<int>(y) + dy);
      r += c.r, g += c.g, b += c.b;
    }
  return hue(r, g, b);
}

// Share of pixels whose channels differ by more than 24 between two pictures of one size.
double differingFraction(const RgbaImage& a, const RgbaImage& b) {
  REQUIRE(a.width == b.width);
  REQUIRE(a.height == b.height);
  int differing = 0;
  for (int y = 0; y < a.height; ++y)
    for (int x = 0; x < a.width; ++x) {
      const Rgba p = a.at(x, y), q = b.at(x, y);
      differing += std::max({std::abs(p.r - q.r), std::abs(p.g - q.g), std::abs(p.b - q.b)}) > 24;
    }
  return static_cast<double>(differing) / (static_cast<double>(a.width) * a.height);
}

VolumeScene sceneOf(const Volume<float>* gate, CameraPreset camera, int size = 128) {
  VolumeScene scene;
  scene.gate = gate;
  scene.camera = camera;
  scene.width = scene.height = size;
  scene.max_opacity = 0.9;
  return scene;
}

// llvmpipe gave identical pixels for LP_NUM_THREADS 1 to 16; another Mesa may move edge pixels of
// the ray-cast balls and the isosurface (a few dozen of the 25600). Real changes measured beyond
// 0.4%: a 2 degree turn, a ball moved 1 mm, max_opacity 0.9 -> 0.7 (0.6-1.2%), threshold, zoom
// 1.03, another colour map (2.3-3%).
constexpr test::ImageTolerance kVolumeViewTolerance{.channel = 24, .fraction = 0.004, .mean = 1.0};

// A gate with a strong ball at the patient's right and a middling one left-superior, the image as
// context (brighter towards the right and anterior) and a green label box left-anterior-inferior.
struct ReferenceScene {
  Geometry grid = testGrid();
  Volume<float> gate = gateWithBalls(grid, {{{10, 0, 0}, 1.0f}, {{-8, 0, 12}, 0.5f}});
  Volume<float> image =
      fromWorld<float>(grid, [](const Vec3& w) { return float(100 + 10 * w[0] + 5 * w[1]); });
  Volume<int32_t> labels = labelsWithBoxes(grid, {{{-8, 8, -12}, {6, 5, 6}, 2}});

  VolumeScene scene(CameraPreset camera) const {
    VolumeScene s = sceneOf(&gate, camera, 160);
    s.image = &image;
    s.surfaces.push_back({&labels, 2, {40, 200, 40, 255}, 1.0, false});
    return s;
  }
};

}  // namespace

TEST_CASE("camera presets have names that parse back", "[render3d]") {
  REQUIRE(cameraPresetNames().size() == 6);
  for (const auto& name : cameraPresetNames()) {
    const auto preset = parseCameraPreset(name);
    REQUIRE(preset.has_value());
    CHECK(cameraPresetName(*preset) == name);
  }
  CHECK_FALSE(parseCameraPreset("frontal").has_value());
}

TEST_CASE(
    "the anterior view shows the patient's right on the left and the posterior view on the right",
    "[render3d]") {
  const auto gate = gateWithBalls(testGrid(), {{{10, 0, 0}}});
  const Region anterior = region(renderVolume(sceneOf(&gate, CameraPreset::Anterior)), lit);
  const Region posterior = region(renderVolume(sceneOf(&gate, CameraPreset::Posterior)), lit);
  REQUIRE(anterior.count > 100);
  REQUIRE(posterior.count > 100);
  CHECK(anterior.x < 64 - 10);
  CHECK(posterior.x > 64 + 10);
  CHECK(std::abs(anterior.y - 64) < 5);
}

TEST_CASE("superior structures appear at the top and the superior view has anterior up",
          "[render3d]") {
  const auto high = gateWithBalls(testGrid(), {{{0, 0, 12}}});
  const Region anterior = region(renderVolume(sceneOf(&high, CameraPreset::Anterior)), lit);
  REQUIRE(anterior.count > 100);
  CHECK(anterior.y < 64 - 10);
  CHECK(std::abs(anterior.x - 64) < 5);

  const auto frontRight = gateWithBalls(testGrid(), {{{10, 10, 0}}});
  const Region superior = region(renderVolume(sceneOf(&frontRight, CameraPreset::Superior)), lit);
  REQUIRE(superior.count > 100);
  CHECK(superior.y < 64 - 10);
  CHECK(superior.x > 64 + 10);
}

TEST_CASE("lateral views show anterior towards the side the camera looks from", "[render3d]") {
  // Standing at the patient's left, their face is on your left; at their right, on your right.
  const auto front = gateWithBalls(testGrid(), {{{0, 10, 0}}});
  const Region left = region(renderVolume(sceneOf(&front, CameraPreset::Left)), lit);
  const Region right = region(renderVolume(sceneOf(&front, CameraPreset::Right)), lit);
  REQUIRE(left.count > 100);
  REQUIRE(right.count > 100);
  CHECK(left.x < 64 - 10);
  CHECK(right.x > 64 + 10);
}

TEST_CASE("a flipped direction matrix with flipped data gives the same picture", "[render3d]") {
  const ReferenceScene plain;
  ReferenceScene flipped;
  flipped.grid = flippedGrid();
  flipped.gate = gateWithBalls(flipped.grid, {{{10, 0, 0}, 1.0f}, {{-8, 0, 12}, 0.5f}});
  flipped.image = fromWorld<float>(flipped.grid,
                                   [](const Vec3& w) { return float(100 + 10 * w[0] + 5 * w[1]); });
  flipped.labels = labelsWithBoxes(flipped.grid, {{{-8, 8, -12}, {6, 5, 6}, 2}});
  REQUIRE_FALSE(std::ranges::equal(flipped.gate.values(),
                                   plain.gate.values()));  // stored the other way round

  for (const auto camera : {CameraPreset::Anterior, CameraPreset::Oblique}) {
    const RgbaImage expected = renderVolume(plain.scene(camera));
    const RgbaImage actual = renderVolume(flipped.scene(camera));
    INFO(cameraPresetName(camera));
    REQUIRE(region(expected, lit).count > 1000);
    CHECK(differingFraction(expected, actual) < 0.01);
  }
}

TEST_CASE("coefficients take the colour map's colours over lo to hi", "[render3d]") {
  // Jet: 1.0 (= hi) is the top entry, dark red; 0.5 is the middle, green.
  const auto gate = gateWithBalls(testGrid(), {{{10, 0, 0}, 1.0f}, {{-10, 0, 0}, 0.5f}});
  const RgbaImage picture = renderVolume(sceneOf(&gate, CameraPreset::Anterior));
  const Region strong = region(picture, [&](Rgba c) { return lit(c) && c.r > c.g; });
  const Region middling = region(picture, [&](Rgba c) { return lit(c) && c.g > c.r; });
  REQUIRE(strong.count > 100);
  REQUIRE(middling.count > 100);
  CHECK(strong.x < 64);    // patient's right, on the picture's left
  CHECK(middling.x > 64);  // patient's left
  // Within 30 degrees of hue: the thin shell where the ball's edge is interpolated towards the
  // threshold lies in front and tints it (jet's next colours, 60 degrees apart, still fail).
  const auto& jet = colormap(ColormapName::Jet).table;
  CHECK(hueDistance(hueAround(picture, strong.x, strong.y),
                    hue(jet[255].r, jet[255].g, jet[255].b)) < 30);
  CHECK(hueDistance(hueAround(picture, middling.x, middling.y),
                    hue(jet[128].r, jet[128].g, jet[128].b)) < 30);

  // Raising lo above the strong ball's value clamps it to the bottom colour: dark blue.
  VolumeScene shifted = sceneOf(&gate, CameraPreset::Anterior);
  shifted.lo = 2.0, shifted.hi = 3.0, shifted.threshold = 0.3;
  const RgbaImage blue = renderVolume(shifted);
  const Region ball = region(blue, lit);
  REQUIRE(ball.count > 100);
  CHECK(hueDistance(hueAround(blue, strong.x, strong.y), hue(jet[0].r, jet[0].g, jet[0].b)) < 30);

  // Below the threshold a coefficient is transparent.
  VolumeScene high = sceneOf(&gate, CameraPreset::Anterior);
  high.threshold = 0.7;
  const Region onlyStrong = region(renderVolume(high), lit);
  CHECK(onlyStrong.x < 64 - 10);
}

TEST_CASE("a label isosurface is drawn in its colour where the label lies and only that label",
          "[render3d]") {
  // Label 2 left-inferior (picture's lower right from the front); label 1 right-superior, not asked
  // for.
  const auto labels =
      labelsWithBoxes(testGrid(), {{{-8, 0, -12}, {6, 6, 6}, 2}, {{8, 0, 12}, {6, 6, 6}, 1}});
  VolumeScene scene = sceneOf(nullptr, CameraPreset::Anterior);
  scene.surfaces.push_back({&labels, 2, {40, 200, 40, 255}, 1.0, false});
  const RgbaImage solid = renderVolume(scene);
  const Region green = region(solid, greenish);
  REQUIRE(green.count > 200);
  CHECK(green.x > 64 + 10);
  CHECK(green.y > 64 + 10);
  CHECK(region(solid, lit).count < green.count * 11 / 10);  // nothing else drawn

  // A wireframe lets the background show between its edges.
  scene.surfaces[0].wireframe = true;
  const RgbaImage wire = renderVolume(scene);
  int gaps = 0;
  for (int y = 0; y < wire.height; ++y)
    for (int x = 0; x < wire.width; ++x) gaps += greenish(solid.at(x, y)) && !lit(wire.at(x, y));
  CHECK(gaps > green.count / 20);
  CHECK(std::abs(region(wire, greenish).x - green.x) < 3);
}

TEST_CASE("the image context is an axial slice through the centre windowed to its percentiles",
          "[render3d]") {
  // Brighter towards the patient's right (+x) and anterior (+y); a transparent gate.
  const Geometry grid = testGrid();
  const Volume<float> image =
      fromWorld<float>(grid, [](const Vec3& w) { return float(100 + 10 * w[0] + 5 * w[1]); });
  const Volume<float> gate(grid);
  VolumeScene scene = sceneOf(&gate, CameraPreset::Superior);
  scene.image = &image;
  const RgbaImage fromAbove = renderVolume(scene);
  const Region slice = region(fromAbove, gray);
  REQUIRE(slice.count > 2000);
  const auto brightness = [&](double x, double y) { return fromAbove.at(int(x), int(y)).r; };
  CHECK(brightness(slice.x + 15, slice.y) >
        brightness(slice.x - 15, slice.y) + 40);  // right is brighter
  CHECK(brightness(slice.x, slice.y - 15) >
        brightness(slice.x, slice.y + 15) + 20);  // anterior (up) is brighter
  int darkest = 255, brightest = 0;
  for (int y = 0; y < fromAbove.height; ++y)
    for (int x = 0; x < fromAbove.width; ++x)
      if (gray(fromAbove.at(x, y)))
        darkest = std::min<int>(darkest, fromAbove.at(x, y).r),
        brightest = std::max<int>(brightest, fromAbove.at(x, y).r);
  CHECK(darkest < 10);     // the 1st percentile and below are black
  CHECK(brightest > 245);  // the 99th and above white

  // Seen edge-on from the front, the slice is a line at most.
  scene.camera = CameraPreset::Anterior;
  CHECK(region(renderVolume(scene), gray).count < slice.count / 10);
}

TEST_CASE(
    "a camera change redraws without uploading volumes and the same scene gives the same picture",
    "[render3d]") {
  Volume<float> gate = gateWithBalls(testGrid(), {{{10, 0, 0}}});
  VolumeRenderer renderer;
  VolumeScene scene = sceneOf(&gate, CameraPreset::Anterior);
  const RgbaImage first = renderer.render(scene);
  CHECK(renderer.volumeUploads() == 1);
  CHECK(renderer.render(scene).pixels == first.pixels);

  scene.azimuth_deg = 40.0;
  const RgbaImage turned = renderer.render(scene);
  CHECK(differingFraction(first, turned) > 0.005);
  scene.azimuth_deg = 0.0;
  scene.zoom = 2.0;
  CHECK(region(renderer.render(scene), lit).count > 3 * region(first, lit).count);
  CHECK(renderer.volumeUploads() == 1);

  // New values in the same Volume object are noticed.
  scene.zoom = 1.0;
  gate = gateWithBalls(testGrid(), {{{-10, 0, 0}}});
  const Region moved = region(renderer.render(scene), lit);
  CHECK(renderer.volumeUploads() == 2);
  CHECK(moved.x > 64 + 10);
}

TEST_CASE("elevation turns the camera over the top", "[render3d]") {
  // From the front, 90 degrees up looks down from above with view-up turned along: the face,
  // where the camera came from, at the bottom; the patient's right still on the left.
  const auto frontRight = gateWithBalls(testGrid(), {{{10, 10, 0}}});
  VolumeScene scene = sceneOf(&frontRight, CameraPreset::Anterior);
  scene.elevation_deg = 90.0;
  const Region raised = region(renderVolume(scene), lit);
  REQUIRE(raised.count > 100);
  CHECK(raised.y > 64 + 10);
  CHECK(raised.x < 64 - 10);
}

TEST_CASE("the 3D view refuses scenes it cannot draw", "[render3d]") {
  const auto gate = gateWithBalls(testGrid(), {{{10, 0, 0}}});
  Geometry other = testGrid();
  other.dims = {40, 32, 20};
  const Volume<float> image(other);
  VolumeScene scene = sceneOf(&gate, CameraPreset::Anterior);
  scene.image = &image;
  CHECK_THROWS_AS(renderVolume(scene), GeometryError);
  CHECK_THROWS_WITH(renderVolume(scene), Catch::Contains("not on the image's grid"));

  CHECK_THROWS_AS(renderVolume(sceneOf(nullptr, CameraPreset::Anterior)), UsageError);
  for (const auto& [width, height] : {std::pair{0, 64}, std::pair{64, -1}, std::pair{100000, 64}}) {
    VolumeScene sized = sceneOf(&gate, CameraPreset::Anterior);
    sized.width = width, sized.height = height;
    CHECK_THROWS_AS(renderVolume(sized), UsageError);
  }
  VolumeScene noLabels = sceneOf(&gate, CameraPreset::Anterior);
  noLabels.surfaces.push_back({});
  CHECK_THROWS_AS(renderVolume(noLabels), UsageError);
  VolumeScene emptyRange = sceneOf(&gate, CameraPreset::Anterior);
  emptyRange.lo = emptyRange.hi = 1.0;
  CHECK_THROWS_AS(renderVolume(emptyRange), UsageError);
}

TEST_CASE("without an X display the 3D view throws a one-line error instead of crashing",
          "[render3d]") {
  const auto gate = gateWithBalls(testGrid(), {{{10, 0, 0}}});
  const char* display = std::getenv("DISPLAY");
  const std::optional<std::string> saved =
      display ? std::optional<std::string>(display) : std::nullopt;

  unsetenv("DISPLAY");
  CHECK_THROWS_WITH(renderVolume(sceneOf(&gate, CameraPreset::Anterior)),
                    Catch::Contains("xvfb-run") && !Catch::Contains("\n"));
  setenv("DISPLAY", ":4242", 1);  // no server there
  CHECK_THROWS_AS(renderVolume(sceneOf(&gate, CameraPreset::Anterior)), Error);

  if (saved)
    setenv("DISPLAY", saved->c_str(), 1);
  else
    unsetenv("DISPLAY");
}

TEST_CASE("an anterior scene matches its baseline picture", "[render3d]") {
  const ReferenceScene reference;
  test::requireMatchesBaseline(renderVolume(reference.scene(CameraPreset::Anterior)),
                               "volume_anterior", kVolumeViewTolerance);
}

TEST_CASE("an oblique scene matches its baseline picture", "[render3d]") {
  const ReferenceScene reference;
  VolumeScene scene = reference.scene(CameraPreset::Oblique);
  scene.colormap = ColormapName::Viridis;
  scene.surfaces[0].opacity = 0.5;
  scene.background = {30, 30, 60, 255};
  test::requireMatchesBaseline(renderVolume(scene), "volume_oblique", kVolumeViewTolerance);
}
