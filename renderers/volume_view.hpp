#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/core/volume.hpp"
#include "renderers/colormap.hpp"
#include "renderers/rgba_image.hpp"

namespace gatescope {

// Where the camera looks from, in patient terms (world coordinates are NIfTI RAS+: +x towards the
// patient's right, +y anterior, +z superior): anterior = from the front (the patient's right on
// the left of the picture), left/right lateral = from that side, posterior, superior = from above
// the head, oblique = from anterior-left-superior. View-up is superior (anterior for superior).
enum class CameraPreset { Anterior, Posterior, Left, Right, Superior, Oblique };
[[nodiscard]] const char* cameraPresetName(CameraPreset preset);
[[nodiscard]] std::optional<CameraPreset> parseCameraPreset(std::string_view name);
[[nodiscard]] std::vector<std::string> cameraPresetNames();

// An isosurface of one label of a label volume (on any grid: surfaces are placed in world space).
struct SurfaceLayer {
  const Volume<int32_t>* labels = nullptr;
  int label = 1;
  Rgba color{255, 255, 255, 255};  // alpha ignored: `opacity` sets it
  double opacity = 1.0;
  bool wireframe = false;
  bool smooth = true;  // windowed-sinc smoothing of the voxel staircase
};

// A 3D scene: one gate's coefficients volume-rendered (colour from the colour map over [lo, hi],
// opacity rising from 0 at `threshold` to `max_opacity` at hi; transparent below the threshold),
// optionally the image as context (its first channel, gray, windowed to its 1st-99th percentile:
// the axial plane through the grid's centre, in world space), isosurfaces of labels, a camera
// preset with optional extra rotation, and the picture size. The camera fits the gate's grid (else
// the image's, else the labels'); `zoom` > 1 magnifies.
struct VolumeScene {
  const Volume<float>* image = nullptr;  // optional context
  const Volume<float>* gate = nullptr;   // on the image's grid (resampled gate)
  ColormapName colormap = ColormapName::Jet;
  double lo = 0.0, hi = 1.0;
  double threshold = 0.3;
  double max_opacity = 0.6;
  std::vector<SurfaceLayer> surfaces;
  CameraPreset camera = CameraPreset::Oblique;
  double azimuth_deg = 0.0, elevation_deg = 0.0;  // added to the preset (workbench drag)
  double zoom = 1.0;
  int width = 512, height = 512;
  Rgba background{0, 0, 0, 255};  // alpha ignored: the picture is opaque
};

// The VTK renderer: an offscreen render window kept between renders so that a camera change
// redraws without rebuilding the pipeline (the workbench's 3D view uploads the returned image to
// its texture). Volumes are compared by content with what was last uploaded, so a volume changed
// in place is noticed. Needs an X display (run under xvfb-run without one); throws Error when none.
// Not thread-safe: render from one thread only (renderers share one X connection); VTK leaves its
// GL context current after render().
class VolumeRenderer {
 public:
  VolumeRenderer();
  ~VolumeRenderer();
  VolumeRenderer(const VolumeRenderer&) = delete;
  VolumeRenderer& operator=(const VolumeRenderer&) = delete;

  // Rebuilds what changed (data, transfer functions, camera) and renders. Throws UsageError or
  // GeometryError for a scene it cannot draw, Error without an X display.
  [[nodiscard]] RgbaImage render(const VolumeScene& scene);
  // How many volumes (gate, image, label volumes) were uploaded so far: a camera-only change
  // uploads none (for tests and diagnostics).
  [[nodiscard]] int volumeUploads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One-off convenience: a fresh renderer, one picture.
[[nodiscard]] RgbaImage renderVolume(const VolumeScene& scene);

}  // namespace gatescope
