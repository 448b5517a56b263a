// Slice compositing speed: a 512x512x200 CT-like volume with an attention overlay and reference and
// prediction contours (three overlays), composited axially (512x512 pixels), coronally and
// sagittally. Prints the median time per picture; the workbench's budget is 2 ms per view.
//
//   gatescope-bench-slices [--repeat N] [--dims X,Y,Z]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "renderers/slice_compositor.hpp"

using namespace gatescope;

namespace {

double medianMs(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 200;
  Index3 dims{512, 512, 200};
  for (int a = 1; a + 1 < argc; a += 2) {
    if (std::strcmp(argv[a], "--repeat") == 0) repeat = std::max(1, std::atoi(argv[a + 1]));
    if (std::strcmp(argv[a], "--dims") == 0 &&
        std::sscanf(argv[a + 1], "%ld,%ld,%ld", &dims[0], &dims[1], &dims[2]) != 3) {
      std::fprintf(stderr, "--dims wants X,Y,Z\n");
      return 2;
    }
  }
  Geometry g;
  g.dims = dims;
  g.spacing_mm = {0.8, 0.8, 2.0};
  g.direction = {{{-1, 0, 0}, {0, -1, 0}, {0, 0, 1}}};
  Volume<float> image(g), gate(g);
  Volume<int32_t> reference(g), prediction(g);
  const double cx = dims[0] / 2.0, cy = dims[1] / 2.0, cz = dims[2] / 2.0;
  for (int64_t k = 0; k < dims[2]; ++k)
    for (int64_t j = 0; j < dims[1]; ++j)
      for (int64_t i = 0; i < dims[0]; ++i) {
        const double r = std::hypot((i - cx) / cx, (j - cy) / cy, (k - cz) / cz);
        image(i, j, k) =
            static_cast<float>(40.0 + 300.0 * std::sin(0.05 * i) * std::cos(0.07 * j) - 200.0 * r);
        gate(i, j, k) = static_cast<float>(std::exp(-4.0 * r * r));
        reference(i, j, k) = r < 0.4 ? 1 : r < 0.6 ? 2 : 0;
        prediction(i, j, k) =
            std::hypot((i - cx - 8) / cx, (j - cy) / cy, (k - cz) / cz) < 0.45 ? 1 : 0;
      }
  SliceScene scene;
  scene.image.volume = &image;
  scene.image.lo = -160, scene.image.hi = 240;
  ScalarLayer overlay;
  overlay.volume = &gate;
  overlay.colormap = ColormapName::Jet;
  overlay.opacity = 0.5;
  overlay.threshold = 0.2;
  scene.overlays.push_back(overlay);
  scene.labels.push_back(
      LabelLayer{&reference, LabelStyle::Contour, Rgba{255, 255, 0, 255}, {}, 1.0, 1});
  scene.labels.push_back(
      LabelLayer{&prediction, LabelStyle::Contour, Rgba{255, 0, 255, 255}, {}, 1.0, 1});

  std::printf(
      "slice compositing, %ldx%ldx%ld volume, image + attention overlay + 2 contour layers, median "
      "of %d\n",
      dims[0], dims[1], dims[2], repeat);
  for (Plane plane : {Plane::Axial, Plane::Coronal, Plane::Sagittal}) {
    scene.plane = plane;
    std::vector<double> times;
    RgbaImage picture;
    for (int r = 0; r < repeat; ++r) {
      scene.slice = (r * 7) % sliceFrame(g, plane).slices;  // scrolling
      const auto start = std::chrono::steady_clock::now();
      composeSlice(scene, picture);
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
    std::printf("  %-8s %4dx%-4d pixels  %7.3f ms  (budget 2 ms: %.2fx)\n", planeName(plane),
                picture.width, picture.height, medianMs(times), 2.0 / medianMs(times));
  }
  return 0;
}
