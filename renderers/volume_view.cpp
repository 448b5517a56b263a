#include "renderers/volume_view.hpp"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkColorTransferFunction.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkFloatArray.h>
#include <vtkGPUVolumeRayCastMapper.h>
#include <vtkImageData.h>
#include <vtkImageProperty.h>
#include <vtkImageResliceMapper.h>
#include <vtkImageSlice.h>
#include <vtkIntArray.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkObjectFactory.h>
#include <vtkOutputWindow.h>
#include <vtkPiecewiseFunction.h>
#include <vtkPlane.h>
#include <vtkPointData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkSmartPointer.h>
#include <vtkUnsignedCharArray.h>
#include <vtkVolume.h>
#include <vtkVolumeProperty.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <numbers>
#include <optional>
#include <span>
#include <type_traits>

#include "analysis/core/error.hpp"

// Last: Xlib's macros (None, Status, Bool) would clash with the headers above.
#include <X11/Xlib.h>

namespace gatescope {

namespace {

// VTK's messages go through gatescope's own: warnings (such as "No data to smooth!" for a filter
// with nothing to do) are dropped unless GATESCOPE_VTK_WARNINGS is set, errors become one
// "gatescope: VTK: ..." line; VTK's coloured multi-line log never reaches the terminal.
class GatescopeVtkOutput : public vtkOutputWindow {
 public:
  static GatescopeVtkOutput* New();
  vtkTypeMacro(GatescopeVtkOutput, vtkOutputWindow);
  void DisplayText(const char* text) override { line(text); }
  void DisplayErrorText(const char* text) override { line(text); }
  void DisplayWarningText(const char* text) override {
    if (std::getenv("GATESCOPE_VTK_WARNINGS")) line(text);
  }
  void DisplayGenericWarningText(const char* text) override { DisplayWarningText(text); }
  void DisplayDebugText(const char*) override {}

 private:
  static void line(const char* text) {
    std::string message = text ? text : "";
    // VTK prefixes "ERROR: In file, line N\nvtkClass (0x...): message": keep the message.
    const auto last = message.find_last_of('\n', message.find_last_not_of("\n "));
    if (last != std::string::npos) message = message.substr(last + 1);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (!message.empty()) std::cerr << "gatescope: VTK: " << message << "\n";
  }
};
vtkStandardNewMacro(GatescopeVtkOutput);

void routeVtkMessages() {
  static std::once_flag once;
  std::call_once(once, [] {
    vtkNew<GatescopeVtkOutput> output;
    vtkOutputWindow::SetInstance(output);
  });
}

// A framebuffer size every OpenGL implementation supports (llvmpipe and GPUs alike).
constexpr int kMaxPictureSide = 8192;
constexpr double kViewAngleDeg = 30.0;

struct PresetInfo {
  CameraPreset preset;
  const char* name;
  Vec3 from;  // from the focal point towards the camera, world RAS+
  Vec3 up;
};

// RAS+: +x patient's right, +y anterior, +z superior.
constexpr std::array<PresetInfo, 6> kPresets{{
    {CameraPreset::Anterior, "anterior", {0, 1, 0}, {0, 0, 1}},
    {CameraPreset::Posterior, "posterior", {0, -1, 0}, {0, 0, 1}},
    {CameraPreset::Left, "left", {-1, 0, 0}, {0, 0, 1}},
    {CameraPreset::Right, "right", {1, 0, 0}, {0, 0, 1}},
    {CameraPreset::Superior, "superior", {0, 0, 1}, {0, 1, 0}},
    {CameraPreset::Oblique, "oblique", {-1, 1, 1}, {0, 0, 1}},
}};

const PresetInfo& presetInfo(CameraPreset preset) {
  for (const auto& info : kPresets)
    if (info.preset == preset) return info;
  throw UsageError("unknown camera preset " + std::to_string(static_cast<int>(preset)));
}

double dot(const Vec3& a, const Vec3& b) {
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}
Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
Vec3 scaled(const Vec3& a, double s) {
  return {a[0] * s, a[1] * s, a[2] * s};
}
Vec3 sum(const Vec3& a, const Vec3& b) {
  return {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
}
Vec3 normalized(const Vec3& a) {
  return scaled(a, 1.0 / std::sqrt(dot(a, a)));
}

// Rodrigues' rotation of `v` about the unit vector `axis` (right-hand rule).
Vec3 rotated(const Vec3& v, const Vec3& axis, double degrees) {
  const double t = degrees * std::numbers::pi / 180.0, c = std::cos(t), s = std::sin(t);
  return sum(sum(scaled(v, c), scaled(cross(axis, v), s)), scaled(axis, dot(axis, v) * (1.0 - c)));
}

// Voxel-to-world as a prop's UserMatrix: the vtkImageData carries the spacing (origin 0), the
// matrix the direction and origin, so flips and obliques land in world space.
vtkSmartPointer<vtkMatrix4x4> placement(const Geometry& g) {
  auto matrix = vtkSmartPointer<vtkMatrix4x4>::New();
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) matrix->SetElement(r, c, g.direction[r][c]);
    matrix->SetElement(r, 3, g.origin[r]);
  }
  return matrix;
}

// World bounds (xmin, xmax, ymin, ymax, zmin, zmax) of a grid's voxel centres.
std::array<double, 6> worldBounds(const Geometry& g) {
  std::array<double, 6> bounds{HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL};
  for (int corner = 0; corner < 8; ++corner) {
    Vec3 ijk;
    for (int a = 0; a < 3; ++a)
      ijk[a] = (corner >> a & 1) ? static_cast<double>(g.dims[a] - 1) : 0.0;
    const Vec3 world = g.indexToWorld(ijk);
    for (int a = 0; a < 3; ++a) {
      bounds[2 * a] = std::min(bounds[2 * a], world[a]);
      bounds[2 * a + 1] = std::max(bounds[2 * a + 1], world[a]);
    }
  }
  return bounds;
}

bool sameGeometryExactly(const Geometry& a, const Geometry& b) {
  return a.dims == b.dims && a.spacing_mm == b.spacing_mm && a.origin == b.origin &&
         a.direction == b.direction;
}

// The first channel of a volume copied into a vtkImageData (VTK's x fastest = our i fastest), kept
// with the geometry it came from so the next render can tell whether it changed.
template <typename T>
struct UploadedGrid {
  using Array = std::conditional_t<std::is_same_v<T, float>, vtkFloatArray, vtkIntArray>;
  static_assert(sizeof(typename Array::ValueType) == sizeof(T));

  Geometry geometry;
  vtkNew<vtkImageData> image;
  vtkNew<Array> values;

  explicit UploadedGrid(const Volume<T>& volume) : geometry(volume.geometry()) {
    const auto& d = geometry.dims;
    image->SetDimensions(static_cast<int>(d[0]), static_cast<int>(d[1]), static_cast<int>(d[2]));
    image->SetSpacing(geometry.spacing_mm.data());
    image->SetOrigin(0.0, 0.0, 0.0);
    const auto channel = volume.channel(0);
    values->SetNumberOfTuples(static_cast<vtkIdType>(channel.size()));
    std::copy(channel.begin(), channel.end(), values->GetPointer(0));
    image->GetPointData()->SetScalars(values);
  }

  // Same grid and same values (compared in full: cheap next to a render, and safe when the caller
  // reuses one Volume object for new data).
  [[nodiscard]] bool holds(const Volume<T>& volume) const {
    const auto channel = volume.channel(0);
    return sameGeometryExactly(geometry, volume.geometry()) &&
           std::memcmp(channel.data(), values->GetPointer(0), channel.size_bytes()) == 0;
  }
};

// 1st and 99th percentile of the finite values (nearest rank).
std::pair<double, double> robustRange(std::span<const float> values) {
  std::vector<float> finite;
  finite.reserve(values.size());
  for (float v : values)
    if (std::isfinite(v)) finite.push_back(v);
  if (finite.empty()) return {0.0, 1.0};
  auto rank = [&](double q) {
    const auto n = static_cast<size_t>(q * static_cast<double>(finite.size() - 1) + 0.5);
    std::nth_element(finite.begin(), finite.begin() + static_cast<std::ptrdiff_t>(n), finite.end());
    return static_cast<double>(finite[n]);
  };
  return {rank(0.01), rank(0.99)};
}

// The X connection VTK draws through: one per display name for the whole process, never closed,
// because Xvfb resets (refusing connections for a moment) whenever its last client leaves, which
// would fail the next renderer. VTK itself aborts when it cannot open a display: check here first.
Display* xDisplay() {
  const char* name = std::getenv("DISPLAY");
  if (name == nullptr || *name == '\0')
    throw Error("3D rendering needs an X display (DISPLAY is not set): run under xvfb-run");
  static std::mutex mutex;
  static std::map<std::string, Display*> connections;
  const std::lock_guard lock(mutex);
  Display*& display = connections[name];
  if (display == nullptr) display = XOpenDisplay(name);
  if (display == nullptr)
    throw Error(std::string("3D rendering needs an X display: cannot open DISPLAY=") + name +
                ": run under xvfb-run");
  return display;
}

void validate(const VolumeScene& scene) {
  if (scene.width < 1 || scene.width > kMaxPictureSide || scene.height < 1 ||
      scene.height > kMaxPictureSide)
    throw UsageError("3D view size must be 1.." + std::to_string(kMaxPictureSide) +
                     " pixels a side, got " + std::to_string(scene.width) + "x" +
                     std::to_string(scene.height));
  if (scene.gate == nullptr && scene.surfaces.empty())
    throw UsageError("3D view needs a gate volume or at least one label surface");
  if (scene.gate != nullptr) {
    if (scene.gate->channels() != 1)
      throw UsageError("3D view renders one gate channel, the gate has " +
                       std::to_string(scene.gate->channels()) + ": pick a channel first");
    if (!(scene.hi > scene.lo))
      throw UsageError("3D view colour range needs lo < hi, got [" + std::to_string(scene.lo) +
                       ", " + std::to_string(scene.hi) + "]");
    if (!(scene.max_opacity >= 0.0 && scene.max_opacity <= 1.0))
      throw UsageError("3D view max_opacity must be within [0, 1], got " +
                       std::to_string(scene.max_opacity));
    if (!std::isfinite(scene.threshold))
      throw UsageError("3D view threshold must be a finite number");
  }
  if (scene.image != nullptr && scene.gate != nullptr &&
      !scene.image->geometry().sameGrid(scene.gate->geometry()))
    throw GeometryError("3D view: the gate is not on the image's grid (resample it first): gate " +
                        scene.gate->geometry().describe() + ", image " +
                        scene.image->geometry().describe());
  for (const auto& surface : scene.surfaces) {
    if (surface.labels == nullptr) throw UsageError("3D view surface layer has no label volume");
    if (!(surface.opacity >= 0.0 && surface.opacity <= 1.0))
      throw UsageError("3D view surface opacity must be within [0, 1], got " +
                       std::to_string(surface.opacity));
  }
  if (!(scene.zoom > 0.0) || !std::isfinite(scene.zoom))
    throw UsageError("3D view zoom must be positive, got " + std::to_string(scene.zoom));
}

}  // namespace

const char* cameraPresetName(CameraPreset preset) {
  return presetInfo(preset).name;
}

std::optional<CameraPreset> parseCameraPreset(std::string_view name) {
  for (const auto& info : kPresets)
    if (name == info.name) return info.preset;
  return std::nullopt;
}

std::vector<std::string> cameraPresetNames() {
  std::vector<std::string> names;
  for (const auto& info : kPresets) names.emplace_back(info.name);
  return names;
}

struct VolumeRenderer::Impl {
  // Created on the first render, after the display check (VTK aborts without a display).
  vtkSmartPointer<vtkRenderWindow> window;
  vtkNew<vtkRenderer> renderer;
  int uploads = 0;

  // Gate coefficients, volume-rendered.
  struct TransferKey {
    ColormapName colormap;
    double lo, hi, threshold, max_opacity;
    friend bool operator==(const TransferKey&, const TransferKey&) = default;
  };
  std::unique_ptr<UploadedGrid<float>> gate;
  std::optional<TransferKey> transfer;
  vtkNew<vtkGPUVolumeRayCastMapper> gate_mapper;
  vtkNew<vtkColorTransferFunction> gate_colors;
  vtkNew<vtkPiecewiseFunction> gate_opacity;
  vtkNew<vtkVolumeProperty> gate_property;
  vtkNew<vtkVolume> gate_prop;

  // Image context: a world-axial cut through the grid's centre (interpolated, so the same plane
  // whatever the direction matrix).
  std::unique_ptr<UploadedGrid<float>> image;
  vtkNew<vtkPlane> image_plane;
  vtkNew<vtkImageResliceMapper> image_mapper;
  vtkNew<vtkImageSlice> image_prop;

  // Label isosurfaces; surfaces of one label volume share its upload.
  struct Surface {
    std::shared_ptr<UploadedGrid<int32_t>> grid;
    std::optional<int> label;
    bool present = false;  // the label occurs in the volume: an empty surface is not drawn
    vtkNew<vtkDiscreteFlyingEdges3D> contour;
    vtkNew<vtkWindowedSincPolyDataFilter> smoother;
    vtkNew<vtkPolyDataNormals> normals;
    vtkNew<vtkPolyDataMapper> mapper;
    vtkNew<vtkActor> actor;
  };
  std::map<const Volume<int32_t>*, std::shared_ptr<UploadedGrid<int32_t>>> label_grids;
  std::vector<std::unique_ptr<Surface>> surfaces;

  Impl() {
    routeVtkMessages();
    gate_property->SetColor(gate_colors);
    gate_property->SetScalarOpacity(gate_opacity);
    gate_property->SetInterpolationTypeToLinear();
    gate_property->ShadeOff();
    // Fixed sampling: the default adapts to frame time and would change the pixels run to run.
    gate_mapper->AutoAdjustSampleDistancesOff();
    gate_prop->SetMapper(gate_mapper);
    gate_prop->SetProperty(gate_property);
    renderer->AddVolume(gate_prop);

    image_plane->SetNormal(0.0, 0.0, 1.0);
    image_mapper->SetSlicePlane(image_plane);
    image_mapper->AutoAdjustImageQualityOff();
    image_prop->SetMapper(image_mapper);
    image_prop->GetProperty()->SetInterpolationTypeToLinear();
    renderer->AddViewProp(image_prop);
  }

  // Releases the GL resources while the props that hold them still exist.
  ~Impl() {
    if (window) window->Finalize();
  }

  void openWindow() {
    if (window) return;
    Display* display = xDisplay();
    window = vtkSmartPointer<vtkRenderWindow>::New();
    window->SetDisplayId(display);
    window->SetOffScreenRendering(1);
    window->SetMultiSamples(0);
    window->AddRenderer(renderer);
  }

  void syncGate(const VolumeScene& scene) {
    gate_prop->SetVisibility(scene.gate != nullptr);
    if (scene.gate == nullptr) return;
    if (!gate || !gate->holds(*scene.gate)) {
      gate = std::make_unique<UploadedGrid<float>>(*scene.gate);
      ++uploads;
      gate_mapper->SetInputData(gate->image);
      gate_prop->SetUserMatrix(placement(gate->geometry));
      const auto& spacing = gate->geometry.spacing_mm;
      const double finest = *std::min_element(spacing.begin(), spacing.end());
      gate_mapper->SetSampleDistance(static_cast<float>(finest / 2.0));
      // Opacity per finest voxel step, so max_opacity means the same on any grid.
      gate_property->SetScalarOpacityUnitDistance(finest);
    }
    const TransferKey key{scene.colormap, scene.lo, scene.hi, scene.threshold, scene.max_opacity};
    if (transfer == key) return;
    transfer = key;
    const auto& table = colormap(scene.colormap).table;
    gate_colors->RemoveAllPoints();
    // Entry n at the centre of its bin, as matplotlib maps [lo, hi] onto 256 bins; clamped outside.
    for (size_t n = 0; n < table.size(); ++n) {
      const double x = scene.lo + (scene.hi - scene.lo) * (static_cast<double>(n) + 0.5) / 256.0;
      gate_colors->AddRGBPoint(x, table[n].r / 255.0, table[n].g / 255.0, table[n].b / 255.0);
    }
    gate_opacity->RemoveAllPoints();
    const double top = std::max(scene.hi, scene.threshold + 1e-6 * (scene.hi - scene.lo));
    gate_opacity->AddPoint(scene.threshold, 0.0);
    gate_opacity->AddPoint(top, scene.max_opacity);
  }

  void syncImage(const VolumeScene& scene) {
    image_prop->SetVisibility(scene.image != nullptr);
    if (scene.image == nullptr || (image && image->holds(*scene.image))) return;
    image = std::make_unique<UploadedGrid<float>>(*scene.image);
    ++uploads;
    const Geometry& g = image->geometry;
    image_mapper->SetInputData(image->image);
    image_prop->SetUserMatrix(placement(g));
    const Vec3 centre =
        g.indexToWorld({(g.dims[0] - 1) / 2.0, (g.dims[1] - 1) / 2.0, (g.dims[2] - 1) / 2.0});
    image_plane->SetOrigin(centre.data());
    const auto [low, high] = robustRange(scene.image->channel(0));
    image_prop->GetProperty()->SetColorWindow(high > low ? high - low : 1.0);
    image_prop->GetProperty()->SetColorLevel((low + high) / 2.0);
  }

  void syncSurfaces(const VolumeScene& scene) {
    std::map<const Volume<int32_t>*, std::shared_ptr<UploadedGrid<int32_t>>> grids;
    for (const auto& layer : scene.surfaces) {
      if (grids.contains(layer.labels)) continue;
      const auto previous = label_grids.find(layer.labels);
      if (previous != label_grids.end() && previous->second->holds(*layer.labels)) {
        grids[layer.labels] = previous->second;
      } else {
        grids[layer.labels] = std::make_shared<UploadedGrid<int32_t>>(*layer.labels);
        ++uploads;
      }
    }
    label_grids = std::move(grids);

    while (surfaces.size() > scene.surfaces.size()) {
      renderer->RemoveActor(surfaces.back()->actor);
      surfaces.pop_back();
    }
    while (surfaces.size() < scene.surfaces.size()) {
      auto& surface = *surfaces.emplace_back(std::make_unique<Surface>());
      surface.contour->ComputeNormalsOff();
      surface.contour->ComputeGradientsOff();
      surface.contour->ComputeScalarsOff();
      surface.smoother->SetNumberOfIterations(15);
      surface.smoother->SetPassBand(0.1);
      surface.smoother->NonManifoldSmoothingOn();
      surface.smoother->NormalizeCoordinatesOn();
      surface.smoother->SetInputConnection(surface.contour->GetOutputPort());
      surface.normals->SplittingOff();
      surface.normals->ConsistencyOn();
      surface.mapper->SetInputConnection(surface.normals->GetOutputPort());
      surface.mapper->ScalarVisibilityOff();
      surface.actor->SetMapper(surface.mapper);
      renderer->AddActor(surface.actor);
    }
    for (size_t n = 0; n < surfaces.size(); ++n) {
      const SurfaceLayer& layer = scene.surfaces[n];
      Surface& surface = *surfaces[n];
      const auto& grid = label_grids.at(layer.labels);
      if (surface.grid != grid || surface.label != layer.label) {
        const auto values = layer.labels->values();
        surface.present = std::find(values.begin(), values.end(), layer.label) != values.end();
      }
      if (surface.grid != grid) {
        surface.grid = grid;
        surface.contour->SetInputData(grid->image);
        surface.actor->SetUserMatrix(placement(grid->geometry));
      }
      if (surface.label != layer.label) {
        surface.label = layer.label;
        surface.contour->SetValue(0, layer.label);
      }
      surface.actor->SetVisibility(surface.present);
      surface.normals->SetInputConnection(layer.smooth ? surface.smoother->GetOutputPort()
                                                       : surface.contour->GetOutputPort());
      vtkProperty* property = surface.actor->GetProperty();
      property->SetColor(layer.color.r / 255.0, layer.color.g / 255.0, layer.color.b / 255.0);
      property->SetOpacity(layer.opacity);
      if (layer.wireframe)
        property->SetRepresentationToWireframe();
      else
        property->SetRepresentationToSurface();
    }
  }

  // The grid the camera frames: the gate's, else the image's, else all label grids together.
  std::array<double, 6> framedBounds(const VolumeScene& scene) const {
    if (scene.gate != nullptr) return worldBounds(scene.gate->geometry());
    if (scene.image != nullptr) return worldBounds(scene.image->geometry());
    std::array<double, 6> bounds{HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL, HUGE_VAL, -HUGE_VAL};
    for (const auto& layer : scene.surfaces) {
      const auto b = worldBounds(layer.labels->geometry());
      for (int a = 0; a < 3; ++a) {
        bounds[2 * a] = std::min(bounds[2 * a], b[2 * a]);
        bounds[2 * a + 1] = std::max(bounds[2 * a + 1], b[2 * a + 1]);
      }
    }
    return bounds;
  }

  void placeCamera(const VolumeScene& scene) {
    const PresetInfo& preset = presetInfo(scene.camera);
    Vec3 from = normalized(preset.from);
    Vec3 up = normalized(sum(preset.up, scaled(from, -dot(preset.up, from))));
    // Azimuth about view-up, elevation about the camera's horizontal axis turning view-up along,
    // as vtkCamera does but without its degenerate view-up at +-90 degrees of elevation.
    from = rotated(from, up, scene.azimuth_deg);
    const Vec3 horizontal = normalized(cross(from, up));
    from = rotated(from, horizontal, scene.elevation_deg);
    up = rotated(up, horizontal, scene.elevation_deg);

    vtkCamera* camera = renderer->GetActiveCamera();
    camera->SetViewAngle(kViewAngleDeg);
    camera->SetFocalPoint(0.0, 0.0, 0.0);
    camera->SetPosition(from.data());
    camera->SetViewUp(up.data());
    auto bounds = framedBounds(scene);
    renderer->ResetCamera(bounds.data());
    camera->Zoom(scene.zoom);
    renderer->ResetCameraClippingRange();
  }

  RgbaImage render(const VolumeScene& scene) {
    validate(scene);
    openWindow();
    syncGate(scene);
    syncImage(scene);
    syncSurfaces(scene);
    placeCamera(scene);
    renderer->SetBackground(scene.background.r / 255.0, scene.background.g / 255.0,
                            scene.background.b / 255.0);
    window->SetSize(scene.width, scene.height);
    window->Render();

    vtkNew<vtkUnsignedCharArray> rgb;
    window->GetPixelData(0, 0, scene.width - 1, scene.height - 1, /*front=*/0, rgb);
    RgbaImage picture(scene.width, scene.height);
    const unsigned char* source = rgb->GetPointer(0);
    for (int y = 0; y < scene.height; ++y) {
      // VTK's rows run bottom to top.
      const unsigned char* row =
          source + static_cast<size_t>(scene.height - 1 - y) * scene.width * 3;
      for (int x = 0; x < scene.width; ++x)
        picture.set(x, y, {row[3 * x], row[3 * x + 1], row[3 * x + 2], 255});
    }
    return picture;
  }
};

VolumeRenderer::VolumeRenderer() : impl_(std::make_unique<Impl>()) {}
VolumeRenderer::~VolumeRenderer() = default;

RgbaImage VolumeRenderer::render(const VolumeScene& scene) {
  return impl_->render(scene);
}
int VolumeRenderer::volumeUploads() const {
  return impl_->uploads;
}

RgbaImage renderVolume(const VolumeScene& scene) {
  VolumeRenderer renderer;
  return renderer.render(scene);
}

}  // namespace gatescope
