#include "analysis/demo/synthetic_scan_planes.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "analysis/core/error.hpp"
#include "analysis/core/image.hpp"
#include "analysis/demo/portable_random.hpp"
#include "analysis/demo/staged_dataset.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/png_io.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

// Everything below uses +, -, *, /, sqrt and integer operations only and this file is compiled
// without fused multiply-add (analysis/CMakeLists.txt): the images are byte-identical everywhere.

constexpr int kGeneratorVersion = 1;
constexpr const char* kGeneratorName = "gatescope synthetic scan planes";
constexpr int kMinimumWidth = 96, kMinimumHeight = 72;
constexpr int kPlacementTries = 200;

enum class Stream : uint64_t { Layout = 1, Appearance = 2, Noise = 3 };

// Echogenicity (the fraction of full brightness before speckle and attenuation) of each material.
constexpr double kTissue = 0.40;
constexpr double kTissueLayer = 0.62;
constexpr double kFluid = 0.06;
constexpr double kBright = 0.88;
constexpr double kBone = 0.95;

// The imaging sector, in pixels: an annulus sector below an apex above the image's top edge.
struct Sector {
  double apex_x = 0, apex_y = 0, near = 0, far = 0, sin_half_angle = 0;
  Sector(int width, int height, double scale)
      : apex_x(width / 2.0),
        apex_y(-10.0 * scale),
        near(16.0 * scale),
        far(height + 6.0 * scale),
        sin_half_angle(0.6157) {}  // a half angle of 38 degrees

  [[nodiscard]] double depth(double x, double y) const {
    const double dx = x - apex_x, dy = y - apex_y;
    return std::sqrt(dx * dx + dy * dy);
  }
  // Inside by at least `margin` pixels (approximately, for the sides).
  [[nodiscard]] bool inside(double x, double y, double margin = 0.0) const {
    const double dx = x - apex_x, dy = y - apex_y, r = std::sqrt(dx * dx + dy * dy);
    if (dy <= 0 || r < near + margin || r > far - margin) return false;
    return std::abs(dx) + margin <= r * sin_half_angle;
  }
};

struct Shape {
  SyntheticPlaneShape described;
  double cos_r = 1, sin_r = 0;
  std::array<double, 4> p{};  // kind-specific sizes in pixels (see paintShape)
  bool telling = false;
};

double squared(double v) {
  return v * v;
}

// The material of `shape` at offset (dx, dy) from its centre, if it covers that point, and whether
// the point belongs to the telling structure's mask.
std::optional<double> material(const Shape& shape, double dx, double dy, bool& in_mask) {
  const double u = dx * shape.cos_r + dy * shape.sin_r;
  const double v = -dx * shape.sin_r + dy * shape.cos_r;
  const std::string& kind = shape.described.kind;
  const auto& p = shape.p;
  in_mask = false;
  if (kind == "heart") {  // p0 radius, p1 half-thickness of the cross
    const double r2 = u * u + v * v;
    if (r2 >= squared(p[0])) return std::nullopt;
    in_mask = true;
    const bool cross = (std::abs(u) < p[1] || std::abs(v) < p[1]) && r2 < squared(p[0] - 0.5);
    return cross ? kBright : kFluid;
  }
  if (kind == "stomach") {  // p0, p1 semi-axes of the fluid, p2 rim width
    const double inner = squared(u / p[0]) + squared(v / p[1]);
    const double outer = squared(u / (p[0] + p[2])) + squared(v / (p[1] + p[2]));
    if (outer >= 1.0) return std::nullopt;
    in_mask = true;
    return inner < 1.0 ? kFluid : kBright;
  }
  if (kind == "femur") {  // p0 half length, p1 half thickness, p2 knob radius
    const double knob = std::min(squared(u - p[0]), squared(u + p[0])) + v * v;
    if (knob < squared(p[2])) {
      in_mask = true;
      return kBone;
    }
    if (std::abs(u) < p[0] && std::abs(v) < p[1]) {
      in_mask = true;
      return kBright;
    }
    return std::nullopt;
  }
  if (kind == "spine") {  // p0 spacing, p1 curvature, p2 dot radius, p3 half the rows' distance
    for (const double row : {-p[3], p[3]})
      for (int k = -2; k <= 2; ++k) {
        const double d2 = squared(u - k * p[0]) + squared(v - row - p[1] * k * k);
        if (d2 < squared(p[2] + 0.5)) in_mask = true;
        if (d2 < squared(p[2])) return kBone;
      }
    return std::nullopt;
  }
  if (kind == "blob") {  // p0, p1 semi-axes
    if (squared(u / p[0]) + squared(v / p[1]) >= 1.0) return std::nullopt;
    return kFluid;
  }
  if (kind == "segment") {  // p0 half length, p1 half thickness
    if (std::abs(u) >= p[0] || std::abs(v) >= p[1]) return std::nullopt;
    return kBright;
  }
  // dot: p0 radius
  if (u * u + v * v >= squared(p[0])) return std::nullopt;
  return kBone;
}

// Draws a shape's sizes (scaled with the image) and turn; its size is its largest half-extent.
Shape drawShape(const std::string& kind, RandomStream& random, double scale) {
  Shape s;
  s.described.kind = kind;
  auto& p = s.p;
  double size = 0;
  if (kind == "heart") {
    p = {random.uniform(7.0, 9.0), 0.8, 0, 0};
    size = p[0];
  } else if (kind == "stomach") {
    p = {random.uniform(8.0, 10.5), random.uniform(5.0, 6.5), 2.0, 0};
    size = p[0] + p[2];
  } else if (kind == "femur") {
    p = {random.uniform(11.0, 14.0), 1.3, 2.8, 0};
    size = p[0] + p[2];
  } else if (kind == "spine") {
    p = {random.uniform(4.6, 5.4), random.uniform(-0.2, 0.2), 1.9, random.uniform(2.6, 3.2)};
    size = 2.0 * p[0] + p[2] + 0.5;
  } else if (kind == "blob") {
    const double a = random.uniform(5.0, 9.0);
    p = {a, a * random.uniform(0.6, 1.0), 0, 0};
    size = p[0];
  } else if (kind == "segment") {
    p = {random.uniform(5.0, 11.0), random.uniform(0.7, 1.3), 0, 0};
    size = p[0];
  } else {
    p = {random.uniform(1.5, 2.1), 0, 0, 0};
    size = p[0];
  }
  for (double& v : p) v *= scale;
  s.described.size = size * scale;
  const double turn = random.uniform(-kPortablePi, kPortablePi);
  std::tie(s.sin_r, s.cos_r) = sinCosWide(turn);
  s.described.rotation_deg = turn * 180.0 / kPortablePi;
  return s;
}

// A centre for `shape` inside the sector, clear of every placed shape; false after
// kPlacementTries draws.
bool place(Shape& shape, const std::vector<Shape>& placed, const Sector& sector, int width,
           int height, RandomStream& random) {
  const double reach = shape.described.size + 2.0;
  for (int attempt = 0; attempt < kPlacementTries; ++attempt) {
    const double x = random.uniform(0.0, width), y = random.uniform(0.0, height);
    if (!sector.inside(x, y, reach) || x < reach || x > width - reach || y > height - reach)
      continue;
    const bool clear = std::all_of(placed.begin(), placed.end(), [&](const Shape& other) {
      const double gap = reach + other.described.size + 2.0;
      return squared(x - other.described.centre[0]) + squared(y - other.described.centre[1]) >
             gap * gap;
    });
    if (!clear) continue;
    shape.described.centre = {x, y};
    return true;
  }
  return false;
}

// [1 2 1] / 4 along x then y (partial volume of the point spread), clamped at the edges.
std::vector<double> smoothed(const std::vector<double>& field, int width, int height,
                             const std::vector<double>& kernel_x,
                             const std::vector<double>& kernel_y) {
  std::vector<double> along_x(field.size()), out(field.size());
  const auto at = [width](int x, int y) { return static_cast<size_t>(y) * width + x; };
  const int hx = static_cast<int>(kernel_x.size() / 2), hy = static_cast<int>(kernel_y.size() / 2);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      double sum = 0;
      for (int t = -hx; t <= hx; ++t)
        sum +=
            kernel_x[static_cast<size_t>(t + hx)] * field[at(std::clamp(x + t, 0, width - 1), y)];
      along_x[at(x, y)] = sum;
    }
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      double sum = 0;
      for (int t = -hy; t <= hy; ++t)
        sum += kernel_y[static_cast<size_t>(t + hy)] *
               along_x[at(x, std::clamp(y + t, 0, height - 1))];
      out[at(x, y)] = sum;
    }
  return out;
}

double kernelNorm(const std::vector<double>& kernel) {
  double sum = 0;
  for (const double w : kernel) sum += w * w;
  return std::sqrt(sum);
}

void checkOptions(const SyntheticScanPlaneOptions& o, const std::string& source) {
  if (o.width < kMinimumWidth || o.height < kMinimumHeight)
    throw UsageError(
        fmt::format("{}: synthetic scan planes need at least {} x {} pixels, got {} x {}", source,
                    kMinimumWidth, kMinimumHeight, o.width, o.height));
}

}  // namespace

const std::vector<std::string>& syntheticScanPlaneClasses() {
  static const std::vector<std::string> classes = {"background", "femur", "heart", "spine",
                                                   "stomach"};
  return classes;
}

std::string syntheticPlaneId(int index) {
  return fmt::format("plane_{:04d}", index);
}

SyntheticScanPlane makeSyntheticScanPlane(const SyntheticScanPlaneOptions& options, int index) {
  const std::string source = fmt::format("synthetic scan plane {}", index);
  checkOptions(options, source);
  if (index < 0) throw UsageError(source + ": image indices start at 0");
  const int width = options.width, height = options.height;
  const double scale = height / 96.0;
  const Sector sector(width, height, scale);
  const auto& classes = syntheticScanPlaneClasses();
  const int n_classes = static_cast<int>(classes.size());

  SyntheticScanPlane plane;
  plane.id = syntheticPlaneId(index);
  plane.true_class = index % n_classes;
  plane.split = index < options.training_per_class * n_classes ? "training" : "test";

  // Layout: the telling structure, then the clutter parts that fit.
  RandomStream layout(options.seed, index, static_cast<uint64_t>(Stream::Layout));
  std::vector<Shape> shapes;
  if (plane.true_class != 0) {
    Shape telling = drawShape(classes[static_cast<size_t>(plane.true_class)], layout, scale);
    telling.telling = true;
    if (!place(telling, shapes, sector, width, height, layout))
      throw Error(fmt::format("{}: no place for the {} in a {} x {} sector", source,
                              telling.described.kind, width, height));
    shapes.push_back(telling);
  }
  const int blobs = 2 + layout.below(2), segments = 2 + layout.below(3), dots = 3 + layout.below(4);
  for (const auto& [kind, count] : {std::pair{"blob", blobs}, {"segment", segments}, {"dot", dots}})
    for (int n = 0; n < count; ++n) {
      Shape part = drawShape(kind, layout, scale);
      if (place(part, shapes, sector, width, height, layout)) shapes.push_back(part);
    }

  // Echogenicity: tissue with a smooth variation and one or two bright layers along the arcs of
  // constant depth, then the shapes.
  RandomStream appearance(options.seed, index, static_cast<uint64_t>(Stream::Appearance));
  const double bias_x = appearance.uniform(-0.06, 0.06), bias_y = appearance.uniform(-0.06, 0.06);
  const int layers = 1 + appearance.below(2);
  std::vector<double> layer_depths;
  for (int n = 0; n < layers; ++n)
    layer_depths.push_back(
        appearance.uniform(sector.near + 10.0 * scale, sector.far - 10.0 * scale));
  plane.gain = appearance.uniform(0.9, 1.1);

  const auto pixels = static_cast<size_t>(width) * static_cast<size_t>(height);
  std::vector<double> echo(pixels, 0.0);
  Geometry grid;
  grid.dims = {width, height, 1};
  plane.mask = Volume<uint8_t>(grid);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double cx = x + 0.5, cy = y + 0.5;
      const double u = (cx - width / 2.0) / (width / 2.0), v = (cy - height / 2.0) / (height / 2.0);
      double e = kTissue + bias_x * u + bias_y * v;
      const double depth = sector.depth(cx, cy);
      for (const double d : layer_depths)
        if (std::abs(depth - d) < 0.9 * scale) e = kTissueLayer;
      for (const Shape& s : shapes) {
        bool in_mask = false;
        const auto m = material(s, cx - s.described.centre[0], cy - s.described.centre[1], in_mask);
        if (m) e = *m;
        if (in_mask && s.telling) plane.mask(x, y, 0) = 1;
      }
      echo[static_cast<size_t>(y) * width + x] = e;
    }
  echo = smoothed(echo, width, height, {0.25, 0.5, 0.25}, {0.25, 0.5, 0.25});

  // Speckle: the magnitude of a complex Gaussian field correlated over a few pixels (longer across
  // the beam than along it), scaled to mean 1, and softened: image = echo * (0.4 + 0.6 speckle).
  RandomStream noise(options.seed, index, static_cast<uint64_t>(Stream::Noise));
  std::vector<double> real(pixels), imaginary(pixels);
  for (size_t n = 0; n < pixels; ++n) {
    real[n] = noise.normal();
    imaginary[n] = noise.normal();
  }
  const std::vector<double> across = {1 / 16.0, 4 / 16.0, 6 / 16.0, 4 / 16.0, 1 / 16.0};
  const std::vector<double> along = {0.25, 0.5, 0.25};
  real = smoothed(real, width, height, across, along);
  imaginary = smoothed(imaginary, width, height, across, along);
  const double sigma = kernelNorm(across) * kernelNorm(along);
  const double rayleigh_mean = sigma * std::sqrt(kPortablePi / 2.0);

  plane.image = Volume<uint8_t>(grid);
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      const double cx = x + 0.5, cy = y + 0.5;
      if (!sector.inside(cx, cy)) {
        plane.mask(x, y, 0) = 0;
        continue;
      }
      const size_t n = static_cast<size_t>(y) * width + x;
      const double speckle =
          std::sqrt(real[n] * real[n] + imaginary[n] * imaginary[n]) / rayleigh_mean;
      const double attenuation =
          1.0 - 0.35 * (sector.depth(cx, cy) - sector.near) / (sector.far - sector.near);
      const double value = 255.0 * plane.gain * echo[n] * (0.4 + 0.6 * speckle) * attenuation;
      plane.image(x, y, 0) = static_cast<uint8_t>(std::clamp(std::round(value), 0.0, 255.0));
    }
  for (const Shape& s : shapes) {
    SyntheticPlaneShape d = s.described;
    d.centre = {hundredths(d.centre[0]), hundredths(d.centre[1])};
    d.size = hundredths(d.size);
    d.rotation_deg = hundredths(d.rotation_deg);
    plane.shapes.push_back(d);
  }
  plane.gain = hundredths(plane.gain);
  return plane;
}

namespace {

std::string relativeImagePath(const SyntheticScanPlane& plane) {
  return syntheticScanPlaneClasses()[static_cast<size_t>(plane.true_class)] + "/" + plane.id +
         ".png";
}

nlohmann::ordered_json planeJson(const SyntheticScanPlane& plane) {
  nlohmann::ordered_json shapes = nlohmann::ordered_json::array();
  for (const SyntheticPlaneShape& s : plane.shapes)
    shapes.push_back({{"kind", s.kind},
                      {"centre", s.centre},
                      {"size", s.size},
                      {"rotation_deg", s.rotation_deg}});
  return {{"id", plane.id},
          {"path", relativeImagePath(plane)},
          {"class", syntheticScanPlaneClasses()[static_cast<size_t>(plane.true_class)]},
          {"split", plane.split},
          {"gain", plane.gain},
          {"shapes", shapes}};
}

}  // namespace

void writeSyntheticScanPlanes(const fs::path& dir, const SyntheticScanPlaneOptions& options,
                              const std::function<void(int done, int total)>& progress) {
  checkOptions(options, dir.string());
  if (options.training_per_class < 0 || options.test_per_class < 0 ||
      options.training_per_class + options.test_per_class < 1)
    throw UsageError(fmt::format(
        "{}: synthetic scan planes need at least one image per class and no negative counts, got "
        "{} training and {} test images per class",
        dir.string(), options.training_per_class, options.test_per_class));
  const auto& classes = syntheticScanPlaneClasses();
  const int total =
      (options.training_per_class + options.test_per_class) * static_cast<int>(classes.size());
  std::vector<nlohmann::ordered_json> described(static_cast<size_t>(total));

  StagedDatasetWriter writer;
  writer.what = "synthetic scan plane";
  for (const std::string& name : classes) {
    writer.folders.push_back(name);
    if (name != classes.front()) writer.folders.push_back("masks/" + name);
  }
  writer.items = total;
  writer.write_item = [&](const fs::path& staging, int index) {
    SyntheticScanPlane plane = makeSyntheticScanPlane(options, index);
    const std::string path = relativeImagePath(plane);
    if (plane.true_class != 0) {
      Volume<uint8_t> mask = plane.mask;
      for (uint8_t& v : mask.values()) v = v ? 255 : 0;
      writePng(staging / "masks" / path, makeImage(std::move(mask), ImageFormat::Png));
    }
    writePng(staging / path, makeImage(std::move(plane.image), ImageFormat::Png));
    described[static_cast<size_t>(index)] = planeJson(plane);
  };
  writer.finish = [&](const fs::path& staging) {
    std::string csv = "path,label,split\n";
    nlohmann::ordered_json images = nlohmann::ordered_json::array();
    for (const auto& d : described) {
      csv += fmt::format("{},{},{}\n", d["path"].get<std::string>(), d["class"].get<std::string>(),
                         d["split"].get<std::string>());
      images.push_back(d);
    }
    writeFileAtomically(staging / "planes.csv", csv);
    const nlohmann::ordered_json generator = {{"generator", kGeneratorName},
                                              {"version", kGeneratorVersion},
                                              {"seed", options.seed},
                                              {"width", options.width},
                                              {"height", options.height},
                                              {"classes", classes},
                                              {"images", images}};
    writeFileAtomically(staging / "generator.json", generator.dump(2) + "\n");
  };
  writer.progress = progress;
  writeStagedDataset(dir, writer);
}

}  // namespace gatescope
