#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "analysis/core/volume.hpp"
#include "renderers/colormap.hpp"
#include "renderers/rgba_image.hpp"

namespace gatescope {

// Slice pictures of volumes, composited on the CPU: the image through a window and colour map,
// scalar overlays (attention coefficients, probabilities, differences) and label layers (contours
// or fills). The workbench uploads the result to a texture, the CLI puts it in figures: same code,
// same pixels.
//
// Orientation follows the radiological convention, from the volume's direction matrix (world is
// NIfTI RAS+; each voxel axis is matched to its nearest world axis):
//   axial    - the patient's right on the picture's left, anterior at the top (seen from the feet)
//   coronal  - the patient's right on the left, superior at the top (seen from the front)
//   sagittal - anterior on the left, superior at the top (seen from the patient's left)
// A one-slice (2D) image is shown as stored: i along the columns, j down the rows.
enum class Plane { Axial, Coronal, Sagittal };
[[nodiscard]] const char* planeName(Plane plane);
[[nodiscard]] std::optional<Plane> parsePlane(std::string_view name);

enum class Interpolation { Nearest, Linear };

// How a plane's picture lies on the voxel grid.
struct SliceFrame {
  int axis_x = 0, axis_y = 1,
      axis_normal = 2;                  // voxel axes along the columns, down the rows, through
  bool flip_x = false, flip_y = false;  // the picture runs against the voxel index
  int64_t columns = 1, rows = 1, slices = 1;                      // voxel counts along those axes
  double spacing_x = 1.0, spacing_y = 1.0, spacing_normal = 1.0;  // mm
};
[[nodiscard]] SliceFrame sliceFrame(const Geometry& geometry, Plane plane);

// A picture of one slice at a pixel size: picture pixels are square, so anisotropic voxels keep
// their physical aspect. Pixel (x, y) covers [x, x+1) x [y, y+1) in picture units, so its centre is
// (x + 0.5, y + 0.5); continuous voxel coordinates have voxel centres at integer indices.
struct SliceMapping {
  SliceFrame frame;
  int64_t slice = 0;  // voxel index along frame.axis_normal
  double pixel_mm = 1.0;
  int width = 1, height = 1;
  // Continuous voxel coordinates (i, j, k) of a picture point (pixel centres at x + 0.5).
  [[nodiscard]] Vec3 voxelAt(double x, double y) const;
  // The picture point of continuous voxel coordinates (the inverse of voxelAt in the plane).
  [[nodiscard]] std::pair<double, double> pictureAt(const Vec3& voxel) const;
};
// `slice` < 0 picks the middle slice; `pixel_mm` <= 0 the finer in-plane spacing. Out-of-range
// slices are a UsageError naming the range.
[[nodiscard]] SliceMapping sliceMapping(const Geometry& geometry, Plane plane, int64_t slice = -1,
                                        double pixel_mm = 0.0);

// A scalar volume drawn through a colour map over [lo, hi]. Values below `threshold` (and NaN) are
// transparent; the rest is blended with `opacity`.
struct ScalarLayer {
  const Volume<float>* volume = nullptr;
  int64_t channel = 0;
  ColormapName colormap = ColormapName::Gray;
  double lo = 0.0, hi = 1.0;
  double opacity = 1.0;
  std::optional<double> threshold;
  Interpolation interpolation = Interpolation::Linear;
};

enum class LabelStyle { Contour, Fill };

// A label volume drawn as contours (the label's pixels that touch another label or the picture's
// edge, `thickness` pixels wide) or fills, in one colour for every label (to tell a reference from
// a prediction) or the label lookup table. Label 0 is never drawn. Sampled by nearest neighbour.
struct LabelLayer {
  const Volume<int32_t>* labels = nullptr;
  LabelStyle style = LabelStyle::Contour;
  std::optional<Rgba> color;  // none: labelColor(label)
  std::vector<int> only;      // labels to draw; empty: every label
  double opacity = 1.0;
  int thickness = 1;
};

// The default label lookup table (1 red, 2 green, 3 blue, 4 yellow, 5 cyan, 6 magenta, ...).
[[nodiscard]] Rgba labelColor(int label);

struct SliceScene {
  Plane plane = Plane::Axial;
  int64_t slice = -1;   // -1: the middle slice
  double pixel_mm = 0;  // 0: the finer in-plane spacing
  ScalarLayer image;    // the base picture (opaque; pixels below its threshold show `background`)
  std::vector<ScalarLayer> overlays;  // drawn in order over the image
  std::vector<LabelLayer> labels;     // drawn in order over the overlays
  Rgba background{0, 0, 0, 255};
};

// Every layer must lie on the image's grid (GeometryError naming the layer otherwise).
// Blending, per channel: out = (below * (256 - a) + layer * a) / 256 (integer division),
// a = round(256 * opacity).
[[nodiscard]] RgbaImage composeSlice(const SliceScene& scene);
// The same into `out`, reusing its memory (views that redraw every frame).
void composeSlice(const SliceScene& scene, RgbaImage& out);

}  // namespace gatescope
