#include "analysis/demo/synthetic_abdomen.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "analysis/core/error.hpp"
#include "analysis/core/image.hpp"
#include "analysis/demo/portable_random.hpp"
#include "analysis/demo/staged_dataset.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/nifti_io.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

constexpr int kGeneratorVersion = 2;
constexpr const char* kDatasetName = "gatescope synthetic abdomen";
// The same for every run and build: a date or build string here would break byte-identical files.
constexpr const char* kFileDescription = "gatescope synthetic abdomen v2";
constexpr const char* kLandmarkName = "liver";
constexpr const char* kTargetName = "right kidney";
constexpr double kPi = 3.14159265358979323846;

// Layouts are drawn until one passes every check; a few per case are typical.
constexpr int kMaxLayoutAttempts = 500;
constexpr int kTriesPerLookAlike = 40;

// Distances (mm) that keep the task well posed: the target touches the landmark, look-alikes keep
// well away from it and from each other, and nothing pokes through the fat rim or into bone or
// the aorta.
constexpr double kLookAlikeToLandmarkMm = 12.0;
constexpr double kLookAlikeToTargetMm = 8.0;
constexpr double kLookAlikeToLookAlikeMm = 6.0;
constexpr double kOrganToVesselOrBoneMm = 3.0;
constexpr double kOrganDepthInBodyMm = 3.0;
constexpr int64_t kMinimumOrganVoxels = 8;

// In-plane field of view the body needs (its largest semi-axes plus a margin), and the extent
// along k that the landmark, the target below it and the look-alikes need in 3D.
constexpr double kMinimumWidthMm = 145.0;
constexpr double kMinimumDepthMm = 115.0;
constexpr double kMinimumLengthMm = 96.0;

// Everything below is computed with +, -, *, /, sqrt and integer operations, which IEEE 754
// rounds the same way everywhere, and this file is compiled without fused multiply-add
// (analysis/CMakeLists.txt): the files are byte-identical on every machine (demo/portable_random).

// What a stream is used for, so that the anatomy, the appearance and each slice's noise of a case
// are independent: drawing one more layout never shifts the noise.
enum class Stream : uint64_t { Layout = 1, Appearance = 2, Noise = 3 };

// Patient coordinates in mm from the grid centre: x towards the patient's left (+i), y posterior
// (+j), z superior (+k). The image direction diag(-1, -1, 1) makes RAS+ world (-x, -y, z), the
// orientation of a CT converted from DICOM.
struct Grid {
  Index3 dims{};
  Vec3 spacing{};
  Vec3 half_extent{};  // from the centre to the outer voxel faces
  bool two_d = false;

  explicit Grid(const SyntheticAbdomenOptions& options)
      : dims(options.dims), spacing(options.spacing_mm), two_d(options.dims[2] == 1) {
    for (int a = 0; a < 3; ++a) half_extent[a] = dims[a] * spacing[a] / 2.0;
  }
  [[nodiscard]] double coordinate(int axis, int64_t index) const {
    return (static_cast<double>(index) - (dims[axis] - 1) / 2.0) * spacing[axis];
  }
  [[nodiscard]] Vec3 position(int64_t i, int64_t j, int64_t k) const {
    return {coordinate(0, i), coordinate(1, j), coordinate(2, k)};
  }
  // Index range whose voxel centres lie in [low, high] mm, clamped to the grid (empty: first >
  // last).
  [[nodiscard]] std::pair<int64_t, int64_t> indexRange(int axis, double low, double high) const {
    const double centre = (dims[axis] - 1) / 2.0;
    const auto first = static_cast<int64_t>(std::ceil(low / spacing[axis] + centre));
    const auto last = static_cast<int64_t>(std::floor(high / spacing[axis] + centre));
    return {std::max<int64_t>(first, 0), std::min<int64_t>(last, dims[axis] - 1)};
  }
  [[nodiscard]] Geometry geometry() const {
    Geometry g;
    g.dims = dims;
    g.spacing_mm = spacing;
    g.direction = {{{-1.0, 0.0, 0.0}, {0.0, -1.0, 0.0}, {0.0, 0.0, 1.0}}};
    // Voxel 0 in world: the grid centre sits at the world origin.
    g.origin = {-coordinate(0, 0) + 0.0, -coordinate(1, 0) + 0.0, coordinate(2, 0)};
    return g;
  }
  [[nodiscard]] Vec3 toWorld(const Vec3& p) const { return {-p[0] + 0.0, -p[1] + 0.0, p[2]}; }
};

// An ellipsoid turned about the k axis, in patient coordinates; a cylinder along k when
// `along_k` (its third semi-axis then only records the grid's extent).
struct Shape {
  Vec3 centre{};
  Vec3 semi_axes{};
  double rotation_deg = 0.0;
  bool along_k = false;
  double cos_r = 1.0, sin_r = 0.0;

  Shape() = default;
  Shape(const Vec3& centre_mm, const Vec3& semi_axes_mm, double rotation, bool cylinder = false)
      : centre(centre_mm), semi_axes(semi_axes_mm), rotation_deg(rotation), along_k(cylinder) {
    std::tie(sin_r, cos_r) = sinCos(rotation_deg * kPi / 180.0);
  }

  [[nodiscard]] int axes() const { return along_k ? 2 : 3; }
  // A direction (or offset from the centre) along the shape's own axes.
  [[nodiscard]] Vec3 toLocal(const Vec3& d) const {
    return {cos_r * d[0] + sin_r * d[1], -sin_r * d[0] + cos_r * d[1], along_k ? 0.0 : d[2]};
  }
  [[nodiscard]] Vec3 offsetOf(const Vec3& p) const {
    return toLocal({p[0] - centre[0], p[1] - centre[1], p[2] - centre[2]});
  }
  // sum over the axes of (u_a / semi-axis_a)^2 for a vector u along the shape's own axes.
  [[nodiscard]] double scaledNormSquared(const Vec3& u) const {
    double sum = 0.0;
    for (int a = 0; a < axes(); ++a) sum += (u[a] / semi_axes[a]) * (u[a] / semi_axes[a]);
    return sum;
  }
  // 1 on the surface, < 1 inside.
  [[nodiscard]] double scaledRadius(const Vec3& p) const {
    return std::sqrt(scaledNormSquared(offsetOf(p)));
  }
  [[nodiscard]] bool contains(const Vec3& p) const { return scaledRadius(p) <= 1.0; }
  [[nodiscard]] double smallestSemiAxis() const {
    return along_k ? std::min(semi_axes[0], semi_axes[1])
                   : std::min({semi_axes[0], semi_axes[1], semi_axes[2]});
  }
  // Distance from the centre to the surface along the unit direction d.
  [[nodiscard]] double radiusAlong(const Vec3& d) const {
    return 1.0 / std::sqrt(scaledNormSquared(toLocal(d)));
  }
  // Euclidean distance from p to the shape, 0 inside. The closest surface point is
  // x_a = s_a^2 y_a / (t + s_a^2) with t > 0 the root of sum_a (s_a y_a / (t + s_a^2))^2 = 1,
  // found by bisection (the sum falls with t and is below 1 at t = |y| * largest semi-axis).
  [[nodiscard]] double distanceFrom(const Vec3& p) const {
    if (contains(p)) return 0.0;
    Vec3 y = offsetOf(p);
    double length = 0.0, largest = 0.0;
    for (int a = 0; a < axes(); ++a) {
      y[a] = std::abs(y[a]);
      length += y[a] * y[a];
      largest = std::max(largest, semi_axes[a]);
    }
    double low = 0.0, high = std::sqrt(length) * largest;
    for (int iteration = 0; iteration < 80; ++iteration) {
      const double t = (low + high) / 2.0;
      double sum = 0.0;
      for (int a = 0; a < axes(); ++a) {
        const double term = semi_axes[a] * y[a] / (t + semi_axes[a] * semi_axes[a]);
        sum += term * term;
      }
      (sum > 1.0 ? low : high) = t;
    }
    const double t = (low + high) / 2.0;
    double squared = 0.0;
    for (int a = 0; a < axes(); ++a) {
      const double s2 = semi_axes[a] * semi_axes[a];
      const double gap = y[a] - s2 * y[a] / (t + s2);
      squared += gap * gap;
    }
    return std::sqrt(squared);
  }
  // A lower bound of the distance from an inside point to the surface: p lies on the surface of
  // the shape scaled by r = scaledRadius(p), and that scaled shape plus a ball of radius
  // (1 - r) * smallest semi-axis stays inside the shape.
  [[nodiscard]] double depthOf(const Vec3& p) const {
    return (1.0 - scaledRadius(p)) * smallestSemiAxis();
  }
  // Half the size of the axis-aligned box around the shape.
  [[nodiscard]] Vec3 halfBox() const {
    const double a = semi_axes[0], b = semi_axes[1];
    return {std::sqrt(a * cos_r * a * cos_r + b * sin_r * b * sin_r),
            std::sqrt(a * sin_r * a * sin_r + b * cos_r * b * cos_r), semi_axes[2]};
  }

  // Calls visit(i, j, k, position) for every voxel whose centre lies inside.
  template <typename Visit>
  void forEachVoxel(const Grid& grid, Visit&& visit) const {
    const Vec3 half = halfBox();
    const auto [i0, i1] = grid.indexRange(0, centre[0] - half[0], centre[0] + half[0]);
    const auto [j0, j1] = grid.indexRange(1, centre[1] - half[1], centre[1] + half[1]);
    const auto [k0, k1] = along_k ? std::pair<int64_t, int64_t>{0, grid.dims[2] - 1}
                                  : grid.indexRange(2, centre[2] - half[2], centre[2] + half[2]);
    for (int64_t k = k0; k <= k1; ++k)
      for (int64_t j = j0; j <= j1; ++j)
        for (int64_t i = i0; i <= i1; ++i) {
          const Vec3 p = grid.position(i, j, k);
          if (contains(p)) visit(i, j, k, p);
        }
  }

  [[nodiscard]] Shape movedTo(const Vec3& position) const {
    return Shape({hundredths(position[0]), hundredths(position[1]), hundredths(position[2])},
                 semi_axes, rotation_deg, along_k);
  }

  [[nodiscard]] SyntheticEllipsoid describe(const Grid& grid) const {
    return {grid.toWorld(centre), semi_axes, rotation_deg};
  }
};

struct LookAlike {
  std::string placement;
  Shape shape;
};

struct Layout {
  Shape body, body_inner, spine, spinous_process, aorta, landmark, landmark_lobe, target;
  std::vector<Shape> fat_islands;
  std::vector<LookAlike> look_alikes;
};

enum Tissue : uint8_t { kAir, kFat, kSoftTissue, kBone, kVessel, kLandmark, kOrgan };

Vec3 normalized(const Vec3& v) {
  const double length = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  return {v[0] / length, v[1] / length, v[2] / length};
}

// The target's size and turn (centred at 0).
Shape drawOrgan(RandomStream& random) {
  const Vec3 semi_axes = {hundredths(random.uniform(7.5, 11.0)),
                          hundredths(random.uniform(6.5, 9.5)),
                          hundredths(random.uniform(9.0, 13.0))};
  return Shape({0.0, 0.0, 0.0}, semi_axes, hundredths(random.uniform(-30.0, 30.0)));
}

// A look-alike of the target: its semi-axes within 15 % of the target's, its own in-plane turn, so
// that neither size nor shape gives it away.
Shape drawLookAlike(RandomStream& random, const Shape& target) {
  Vec3 semi_axes{};
  for (int a = 0; a < 3; ++a)
    semi_axes[a] = hundredths(target.semi_axes[a] * random.uniform(0.85, 1.15));
  return Shape({0.0, 0.0, 0.0}, semi_axes, hundredths(random.uniform(-30.0, 30.0)));
}

// Every voxel of `organ` lies inside the field of view along k, well inside the body's soft
// tissue and away from bone.
bool fitsInBody(const Shape& organ, const Layout& layout, const Grid& grid) {
  if (!grid.two_d &&
      std::abs(organ.centre[2]) + organ.semi_axes[2] > grid.half_extent[2] - grid.spacing[2])
    return false;
  bool fits = true;
  int64_t voxels = 0;
  organ.forEachVoxel(grid, [&](int64_t, int64_t, int64_t, const Vec3& p) {
    ++voxels;
    if (!fits) return;
    fits = layout.body_inner.contains(p) && layout.body_inner.depthOf(p) >= kOrganDepthInBodyMm &&
           layout.spine.distanceFrom(p) >= kOrganToVesselOrBoneMm &&
           layout.spinous_process.distanceFrom(p) >= kOrganToVesselOrBoneMm &&
           layout.aorta.distanceFrom(p) >= kOrganToVesselOrBoneMm;
  });
  return fits && voxels >= kMinimumOrganVoxels;
}

// Every voxel of `candidate` keeps the look-alike distances from the landmark's ellipsoids (not
// just its visible part), the target and the look-alikes placed so far.
bool keepsAway(const Shape& candidate, const Layout& layout, const Grid& grid) {
  bool away = true;
  candidate.forEachVoxel(grid, [&](int64_t, int64_t, int64_t, const Vec3& p) {
    if (!away) return;
    away = layout.landmark.distanceFrom(p) >= kLookAlikeToLandmarkMm &&
           layout.landmark_lobe.distanceFrom(p) >= kLookAlikeToLandmarkMm &&
           layout.target.distanceFrom(p) >= kLookAlikeToTargetMm;
    for (const auto& other : layout.look_alikes)
      away = away && other.shape.distanceFrom(p) >= kLookAlikeToLookAlikeMm;
  });
  return away;
}

enum class Placement { Contralateral, Anterior, LeftLateral, Inferior };

const char* placementName(Placement placement) {
  switch (placement) {
    case Placement::Contralateral:
      return "contralateral";
    case Placement::Anterior:
      return "anterior";
    case Placement::LeftLateral:
      return "left lateral";
    case Placement::Inferior:
      return "inferior";
  }
  return "";
}

// Where look-alikes go: mirrored across the midline (the left kidney's place), the anterior
// abdomen, the left flank, or in 3D straight below the target, where only the distance along k
// to the landmark tells them apart.
Vec3 lookAlikeCentre(Placement placement, RandomStream& random, const Grid& grid,
                     const Shape& target) {
  const Vec3& t = target.centre;
  const double z_reach = grid.half_extent[2] - 16.0;
  const double anywhere_z = grid.two_d ? 0.0 : random.uniform(-z_reach, z_reach);
  switch (placement) {
    case Placement::Contralateral:
      return {-t[0] + random.uniform(-5.0, 5.0), t[1] + random.uniform(-5.0, 5.0),
              grid.two_d ? 0.0 : t[2] + random.uniform(-10.0, 10.0)};
    case Placement::Anterior:
      return {random.uniform(0.0, 35.0), random.uniform(-42.0, -20.0), anywhere_z};
    case Placement::LeftLateral:
      return {random.uniform(32.0, 50.0), random.uniform(-18.0, 12.0), anywhere_z};
    case Placement::Inferior:
      return {t[0] + random.uniform(-5.0, 5.0), t[1] + random.uniform(-5.0, 5.0),
              t[2] - random.uniform(32.0, 48.0)};
  }
  return t;
}

std::optional<Layout> drawLayout(RandomStream& random, const Grid& grid) {
  Layout layout;
  const double a = hundredths(random.uniform(62.0, 70.0));
  const double b = hundredths(random.uniform(47.0, 55.0));
  const double fat = hundredths(random.uniform(7.0, 12.0));
  const double length = hundredths(grid.half_extent[2]);
  layout.body = Shape({0.0, 0.0, 0.0}, {a, b, length}, 0.0, true);
  layout.body_inner = Shape({0.0, 0.0, 0.0}, {a - fat, b - fat, length}, 0.0, true);
  // Each draw is its own statement: the order in which function arguments are evaluated is up to
  // the compiler, and a different order would draw different numbers.
  // A vertebral body in front of the back muscles, the spinal canal, then a spinous process.
  const double spine_y = hundredths(b - random.uniform(25.0, 29.0));
  const Vec3 spine_centre = {hundredths(random.uniform(-2.0, 2.0)), spine_y, 0.0};
  const Vec3 spine_semi_axes = {hundredths(random.uniform(8.5, 10.5)),
                                hundredths(random.uniform(7.5, 9.0)), length};
  layout.spine = Shape(spine_centre, spine_semi_axes, 0.0, true);
  const double process_start = spine_y + spine_semi_axes[1] + 5.0;
  const double process_end = b - fat - 2.0;
  layout.spinous_process =
      Shape({spine_centre[0], (process_start + process_end) / 2.0, 0.0},
            {2.5, std::max(1.0, (process_end - process_start) / 2.0), length}, 0.0, true);
  // The aorta runs in front of the spine, a little to the left.
  const double aorta_radius = hundredths(random.uniform(6.0, 7.5));
  const Vec3 aorta_centre = {
      hundredths(spine_centre[0] + random.uniform(3.0, 8.0)),
      hundredths(spine_y - spine_semi_axes[1] - aorta_radius - random.uniform(1.0, 3.0)), 0.0};
  layout.aorta = Shape(aorta_centre, {aorta_radius, aorta_radius, length}, 0.0, true);

  // The landmark sits on the patient's right (-x), in the upper part of the field along k.
  const double landmark_z = grid.two_d ? 0.0 : random.uniform(0.15, 0.35) * grid.half_extent[2];
  const Vec3 landmark_centre = {hundredths(random.uniform(-36.0, -28.0)),
                                hundredths(random.uniform(-12.0, 0.0)), hundredths(landmark_z)};
  const Vec3 landmark_semi_axes = {hundredths(random.uniform(28.0, 35.0)),
                                   hundredths(random.uniform(24.0, 30.0)),
                                   hundredths(random.uniform(42.0, 52.0))};
  const double landmark_rotation = hundredths(random.uniform(-20.0, 20.0));
  layout.landmark = Shape(landmark_centre, landmark_semi_axes, landmark_rotation);
  // Its left lobe: a flatter ellipsoid reaching towards the midline in front of the right lobe's
  // upper part, so that the landmark's cross-section changes along k - two lobes above, one below
  // (in 2D the slice cuts both).
  const double lobe_x = landmark_centre[0] + random.uniform(0.75, 0.95) * landmark_semi_axes[0];
  const double lobe_y = landmark_centre[1] - random.uniform(6.0, 12.0);
  const double lobe_z =
      grid.two_d ? 0.0 : landmark_centre[2] + random.uniform(0.25, 0.45) * landmark_semi_axes[2];
  const Vec3 lobe_centre = {hundredths(lobe_x), hundredths(lobe_y), hundredths(lobe_z)};
  const Vec3 lobe_semi_axes = {hundredths(random.uniform(18.0, 24.0)),
                               hundredths(random.uniform(9.0, 13.0)),
                               hundredths(random.uniform(18.0, 26.0))};
  const double lobe_rotation = hundredths(random.uniform(-15.0, 15.0));
  layout.landmark_lobe = Shape(lobe_centre, lobe_semi_axes, lobe_rotation);

  // Pockets of mesenteric fat in the anterior abdomen: texture, so that the background is not flat.
  const int islands = 4 + random.below(5);
  for (int n = 0; n < islands; ++n) {
    const double z = grid.two_d ? 0.0 : random.uniform(-length, length);
    const Vec3 centre = {hundredths(random.uniform(-15.0, 45.0)),
                         hundredths(random.uniform(-45.0, 0.0)), hundredths(z)};
    const Vec3 semi_axes = {hundredths(random.uniform(4.0, 9.0)),
                            hundredths(random.uniform(3.0, 7.0)),
                            hundredths(random.uniform(6.0, 15.0))};
    const double rotation = hundredths(random.uniform(-45.0, 45.0));
    layout.fat_islands.emplace_back(centre, semi_axes, rotation);
  }

  // The target touches the landmark's posterior-medial (and in 3D inferior) border: its centre
  // lies on a ray from the landmark's centre, a little less than its own radius beyond the
  // landmark's surface, so the two always share a border.
  const Vec3 direction = normalized({random.uniform(0.0, 0.4), random.uniform(0.7, 1.0),
                                     grid.two_d ? 0.0 : -random.uniform(0.35, 0.75)});
  const Shape target = drawOrgan(random);
  const double reach = layout.landmark.radiusAlong(direction) + 0.7 * target.radiusAlong(direction);
  Vec3 centre{};
  for (int axis = 0; axis < 3; ++axis)
    centre[axis] = layout.landmark.centre[axis] + reach * direction[axis];
  layout.target = target.movedTo(centre);
  if (!fitsInBody(layout.target, layout, grid)) return std::nullopt;

  std::vector<Placement> placements = {Placement::Contralateral, Placement::Anterior,
                                       Placement::LeftLateral};
  if (!grid.two_d) placements.push_back(Placement::Inferior);
  for (size_t n = placements.size() - 1; n > 0; --n)  // Fisher-Yates
    std::swap(placements[n],
              placements[static_cast<size_t>(random.below(static_cast<int>(n) + 1))]);
  const size_t wanted = 1 + static_cast<size_t>(random.below(3));
  for (Placement placement : placements) {
    if (layout.look_alikes.size() == wanted) break;
    for (int attempt = 0; attempt < kTriesPerLookAlike; ++attempt) {
      const Shape organ = drawLookAlike(random, layout.target);
      const Shape shape = organ.movedTo(lookAlikeCentre(placement, random, grid, layout.target));
      if (fitsInBody(shape, layout, grid) && keepsAway(shape, layout, grid)) {
        layout.look_alikes.push_back({placementName(placement), shape});
        break;
      }
    }
  }
  if (layout.look_alikes.empty()) return std::nullopt;
  return layout;
}

struct Rendered {
  Volume<uint8_t> tissue, labels, distractor_mask;
};

Rendered paint(const Layout& layout, const Grid& grid) {
  const Geometry geometry = grid.geometry();
  Rendered r{Volume<uint8_t>(geometry, 1, kAir), Volume<uint8_t>(geometry),
             Volume<uint8_t>(geometry)};
  layout.body.forEachVoxel(grid, [&](int64_t i, int64_t j, int64_t k, const Vec3& p) {
    r.tissue(i, j, k) = layout.body_inner.contains(p) ? kSoftTissue : kFat;
  });
  for (const Shape* bone : {&layout.spine, &layout.spinous_process})
    bone->forEachVoxel(
        grid, [&](int64_t i, int64_t j, int64_t k, const Vec3&) { r.tissue(i, j, k) = kBone; });
  layout.aorta.forEachVoxel(
      grid, [&](int64_t i, int64_t j, int64_t k, const Vec3&) { r.tissue(i, j, k) = kVessel; });
  // The landmark and the fat pockets fill only soft tissue: the body wall, the spine and the
  // aorta clip the landmark, and the fat pockets stay out of it.
  for (const Shape* part : {&layout.landmark, &layout.landmark_lobe})
    part->forEachVoxel(grid, [&](int64_t i, int64_t j, int64_t k, const Vec3&) {
      if (r.tissue(i, j, k) != kSoftTissue) return;
      r.tissue(i, j, k) = kLandmark;
      r.labels(i, j, k) = kSyntheticLandmarkLabel;
    });
  for (const Shape& island : layout.fat_islands)
    island.forEachVoxel(grid, [&](int64_t i, int64_t j, int64_t k, const Vec3&) {
      if (r.tissue(i, j, k) == kSoftTissue) r.tissue(i, j, k) = kFat;
    });
  for (size_t n = 0; n < layout.look_alikes.size(); ++n)
    layout.look_alikes[n].shape.forEachVoxel(
        grid, [&](int64_t i, int64_t j, int64_t k, const Vec3&) {
          r.tissue(i, j, k) = kOrgan;
          r.distractor_mask(i, j, k) = static_cast<uint8_t>(n + 1);
        });
  layout.target.forEachVoxel(grid, [&](int64_t i, int64_t j, int64_t k, const Vec3&) {
    r.tissue(i, j, k) = kOrgan;
    r.labels(i, j, k) = kSyntheticTargetLabel;
  });
  return r;
}

// The target shares a face with a landmark voxel.
bool targetTouchesLandmark(const Volume<uint8_t>& labels) {
  const Index3& d = labels.dims();
  for (int64_t k = 0; k < d[2]; ++k)
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) {
        if (labels(i, j, k) != kSyntheticTargetLabel) continue;
        const auto landmark = [&](int64_t a, int64_t b, int64_t c) {
          return a >= 0 && b >= 0 && c >= 0 && a < d[0] && b < d[1] && c < d[2] &&
                 labels(a, b, c) == kSyntheticLandmarkLabel;
        };
        if (landmark(i - 1, j, k) || landmark(i + 1, j, k) || landmark(i, j - 1, k) ||
            landmark(i, j + 1, k) || landmark(i, j, k - 1) || landmark(i, j, k + 1))
          return true;
      }
  return false;
}

struct Appearance {
  SyntheticIntensities intensities;
  double noise_sigma_hu = 0.0;
  std::array<double, 4> bias_hu{};  // as SyntheticCase::bias_hu
};

Appearance drawAppearance(RandomStream& random) {
  Appearance a;
  auto& hu = a.intensities;
  hu.fat_hu = hundredths(random.uniform(-110.0, -90.0));
  hu.soft_tissue_hu = hundredths(random.uniform(32.0, 44.0));
  hu.bone_hu = hundredths(random.uniform(380.0, 450.0));
  hu.vessel_hu = hundredths(random.uniform(170.0, 210.0));
  // Never less than 22 HU above its surroundings, so that the landmark stays visible in the noise.
  hu.landmark_hu = hundredths(hu.soft_tissue_hu + random.uniform(22.0, 30.0));
  hu.target_hu = hundredths(random.uniform(125.0, 140.0));
  a.noise_sigma_hu = hundredths(random.uniform(15.0, 20.0));
  for (double& b : a.bias_hu) b = hundredths(random.uniform(-3.0, 3.0));
  return a;
}

// Partial-volume blur: a [1 2 1] / 4 kernel along one axis, the edge voxel repeated.
void smoothAlong(Volume<float>& volume, int axis) {
  const Index3& d = volume.dims();
  if (d[axis] < 2) return;
  const int64_t stride = axis == 0 ? 1 : axis == 1 ? d[0] : d[0] * d[1];
  const int64_t n = d[axis];
  const int64_t lines = volume.voxelsPerChannel() / n;
  float* data = volume.data();
#pragma omp parallel for schedule(static)
  for (int64_t line = 0; line < lines; ++line) {
    // The first voxel of this line: lines enumerate the other two axes.
    const int64_t below = line % stride, above = line / stride;
    const int64_t start = below + above * stride * n;
    std::vector<float> copy(static_cast<size_t>(n));
    for (int64_t m = 0; m < n; ++m) copy[static_cast<size_t>(m)] = data[start + m * stride];
    for (int64_t m = 0; m < n; ++m) {
      const float left = copy[static_cast<size_t>(std::max<int64_t>(m - 1, 0))];
      const float right = copy[static_cast<size_t>(std::min<int64_t>(m + 1, n - 1))];
      data[start + m * stride] = (left + 2.0f * copy[static_cast<size_t>(m)] + right) * 0.25f;
    }
  }
}

Volume<int16_t> renderImage(const Volume<uint8_t>& tissue, const Appearance& look, const Grid& grid,
                            const SyntheticAbdomenOptions& options, int index) {
  const auto& hu = look.intensities;
  const std::array<double, 7> level = {hu.air_hu,    hu.fat_hu,      hu.soft_tissue_hu, hu.bone_hu,
                                       hu.vessel_hu, hu.landmark_hu, hu.target_hu};
  Volume<float> clean(tissue.geometry());
  for (int64_t n = 0; n < tissue.size(); ++n)
    clean.data()[n] = static_cast<float>(level[tissue.data()[n]]);
  for (int axis = 0; axis < 3; ++axis) smoothAlong(clean, axis);

  // CT noise is not white: the reconstruction kernel correlates neighbouring voxels in plane.
  // White noise from one stream per slice (the result does not depend on how slices are shared
  // out), smoothed in plane by the partial-volume kernel, then scaled back to sigma: the [1 2 1] /
  // 4 kernel keeps 6 / 16 of the variance along each axis, so the standard deviation falls to 6 /
  // 16 = 0.375 along both.
  const Index3& d = grid.dims;
  Volume<float> noise_field(tissue.geometry());
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < d[2]; ++k) {
    RandomStream noise(options.seed, index, static_cast<uint64_t>(Stream::Noise), k);
    for (int64_t j = 0; j < d[1]; ++j)
      for (int64_t i = 0; i < d[0]; ++i) noise_field(i, j, k) = static_cast<float>(noise.normal());
  }
  for (int axis = 0; axis < 2; ++axis) smoothAlong(noise_field, axis);
  const double noise_scale = look.noise_sigma_hu / 0.375;

  Volume<int16_t> image(tissue.geometry());
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < d[2]; ++k) {
    const double z = grid.two_d ? 0.0 : grid.coordinate(2, k) / grid.half_extent[2];
    for (int64_t j = 0; j < d[1]; ++j) {
      const double y = grid.coordinate(1, j) / grid.half_extent[1];
      for (int64_t i = 0; i < d[0]; ++i) {
        const double x = grid.coordinate(0, i) / grid.half_extent[0];
        // A smooth drift of a few HU inside the body, as beam hardening and scatter leave.
        const double bias = tissue(i, j, k) == kAir
                                ? 0.0
                                : look.bias_hu[0] * x + look.bias_hu[1] * y + look.bias_hu[2] * z +
                                      look.bias_hu[3] * (x * x + y * y);
        const double value = static_cast<double>(clean(i, j, k)) + bias +
                             noise_scale * static_cast<double>(noise_field(i, j, k));
        image(i, j, k) =
            static_cast<int16_t>(std::clamp<double>(std::round(value), -1024.0, 3071.0));
      }
    }
  }
  return image;
}

// `source` starts each message: the dataset folder, or the case being made.
void checkOptions(const SyntheticAbdomenOptions& options, const std::string& source) {
  const auto& d = options.dims;
  const auto& s = options.spacing_mm;
  for (int a = 0; a < 3; ++a) {
    if (d[a] < 1)
      throw UsageError(
          fmt::format("{}: dims must be positive, got {}x{}x{}", source, d[0], d[1], d[2]));
    if (!(s[a] > 0.0) || !std::isfinite(s[a]))
      throw UsageError(
          fmt::format("{}: spacing must be positive, got {}x{}x{} mm", source, s[0], s[1], s[2]));
  }
  const double width = d[0] * s[0], depth = d[1] * s[1], length = d[2] * s[2];
  if (width < kMinimumWidthMm || depth < kMinimumDepthMm)
    throw UsageError(fmt::format(
        "{}: the field of view {:.1f} x {:.1f} mm is too small for the synthetic body, which "
        "needs {} x {} mm in plane; use more voxels or a larger spacing",
        source, width, depth, kMinimumWidthMm, kMinimumDepthMm));
  if (d[2] > 1 && length < kMinimumLengthMm)
    throw UsageError(fmt::format(
        "{}: {} slices of {} mm ({:.1f} mm) are too short for the synthetic organs, which need "
        "{} mm along k; use more slices, a larger spacing, or one slice for the 2D variant",
        source, d[2], s[2], length, kMinimumLengthMm));
}

nlohmann::ordered_json toJson(const SyntheticEllipsoid& e) {
  return {{"centre_mm", e.centre_mm},
          {"semi_axes_mm", e.semi_axes_mm},
          {"rotation_deg", e.rotation_deg}};
}

nlohmann::ordered_json caseJson(const SyntheticCase& c, int index, const std::string& split) {
  nlohmann::ordered_json j;
  j["id"] = c.id;
  j["index"] = index;
  j["split"] = split;
  j["body"] = {{"semi_axes_mm", c.body_semi_axes_mm}, {"fat_rim_mm", c.fat_rim_mm}};
  j["spine"] = toJson(c.spine);
  j["aorta"] = toJson(c.aorta);
  j["fat_islands"] = nlohmann::ordered_json::array();
  for (const auto& island : c.fat_islands) j["fat_islands"].push_back(toJson(island));
  j["landmark"] = toJson(c.landmark);
  j["landmark_lobe"] = toJson(c.landmark_lobe);
  j["target"] = toJson(c.target);
  j["distractors"] = nlohmann::ordered_json::array();
  for (const auto& d : c.distractors) {
    auto entry = toJson(d.shape);
    entry["placement"] = d.placement;
    j["distractors"].push_back(std::move(entry));
  }
  const auto& hu = c.intensities;
  j["intensities_hu"] = {
      {"air", hu.air_hu},      {"fat", hu.fat_hu},       {"soft_tissue", hu.soft_tissue_hu},
      {"bone", hu.bone_hu},    {"vessel", hu.vessel_hu}, {"landmark", hu.landmark_hu},
      {"target", hu.target_hu}};
  j["noise_sigma_hu"] = c.noise_sigma_hu;
  j["bias_hu"] = c.bias_hu;
  return j;
}

std::string imagePath(const char* folder, const std::string& id) {
  return fmt::format("./{}/{}.nii.gz", folder, id);
}

nlohmann::ordered_json datasetJson(const SyntheticAbdomenOptions& options) {
  const bool two_d = options.dims[2] == 1;
  nlohmann::ordered_json j;
  j["name"] = kDatasetName;
  j["description"] = fmt::format(
      "Synthetic CT-like abdomen ({}), not patient data. Label 1 is a large liver-like landmark "
      "organ, label 2 a small right-kidney-like target touching it. Each case also holds 1 to 3 "
      "unlabelled look-alikes of the target (same intensity, size and shape) away from the "
      "landmark: only the position relative to the landmark tells them apart.",
      two_d ? "2D slices" : "3D volumes");
  j["reference"] = "gatescope, analysis/demo/synthetic_abdomen.cpp";
  j["release"] = fmt::format("generator version {}", kGeneratorVersion);
  j["tensorImageSize"] = two_d ? "2D" : "3D";
  j["modality"] = {{"0", "CT"}};
  j["labels"] = {{"0", "background"}, {"1", kLandmarkName}, {"2", kTargetName}};
  j["numTraining"] = options.training_cases;
  j["numTest"] = options.test_cases;
  j["training"] = nlohmann::ordered_json::array();
  j["test"] = nlohmann::ordered_json::array();
  for (int n = 0; n < options.training_cases + options.test_cases; ++n) {
    const std::string id = syntheticCaseId(n);
    if (n < options.training_cases)
      j["training"].push_back(
          {{"image", imagePath("imagesTr", id)}, {"label", imagePath("labelsTr", id)}});
    else
      j["test"].push_back(imagePath("imagesTs", id));
  }
  j["generator"] = {
      {"name", kDatasetName},
      {"version", kGeneratorVersion},
      {"seed", options.seed},
      {"dims", options.dims},
      {"spacing_mm", options.spacing_mm},
      {"training_cases", options.training_cases},
      {"test_cases", options.test_cases},
      {"test_labels", "./labelsTs/<id>.nii.gz"},
      {"case_parameters", "./generator/<id>.json"},
      {"distractor_masks", "./generator/<id>_distractors.nii.gz"},
      {"distractor_mask_values", "0 elsewhere, n inside the n-th entry of the case's distractors"}};
  return j;
}

template <typename T>
void writeVolume(const fs::path& path, Volume<T> volume) {
  Image image = makeImage(std::move(volume));
  image.header.description = kFileDescription;
  image.header.qform_code = image.header.sform_code = 1;  // scanner anatomical, as for CT
  writeNifti(path, image);
}

void writeCase(const fs::path& root, const SyntheticAbdomenOptions& options, int index) {
  SyntheticCase c = makeSyntheticCase(options, index);
  const bool training = index < options.training_cases;
  const std::string& id = c.id;
  writeFileAtomically(root / "generator" / (id + ".json"),
                      caseJson(c, index, training ? "training" : "test").dump(2) + "\n");
  writeVolume(root / (training ? "imagesTr" : "imagesTs") / (id + ".nii.gz"), std::move(c.image));
  writeVolume(root / (training ? "labelsTr" : "labelsTs") / (id + ".nii.gz"), std::move(c.labels));
  writeVolume(root / "generator" / (id + "_distractors.nii.gz"), std::move(c.distractor_mask));
}

}  // namespace

std::string syntheticCaseId(int index) {
  return fmt::format("abdomen_{:03d}", index);
}

SyntheticCase makeSyntheticCase(const SyntheticAbdomenOptions& options, int index) {
  const std::string source = fmt::format("synthetic abdomen case {}", index);
  checkOptions(options, source);
  if (index < 0) throw UsageError(source + ": case indices start at 0");
  const Grid grid(options);
  RandomStream layout_random(options.seed, index, static_cast<uint64_t>(Stream::Layout));
  for (int attempt = 0; attempt < kMaxLayoutAttempts; ++attempt) {
    const std::optional<Layout> layout = drawLayout(layout_random, grid);
    if (!layout) continue;
    Rendered rendered = paint(*layout, grid);
    if (!targetTouchesLandmark(rendered.labels)) continue;

    RandomStream appearance_random(options.seed, index, static_cast<uint64_t>(Stream::Appearance));
    const Appearance look = drawAppearance(appearance_random);
    SyntheticCase c;
    c.id = syntheticCaseId(index);
    c.image = renderImage(rendered.tissue, look, grid, options, index);
    c.labels = std::move(rendered.labels);
    c.distractor_mask = std::move(rendered.distractor_mask);
    c.body_semi_axes_mm = {layout->body.semi_axes[0], layout->body.semi_axes[1]};
    c.fat_rim_mm = hundredths(layout->body.semi_axes[0] - layout->body_inner.semi_axes[0]);
    c.spine = layout->spine.describe(grid);
    c.aorta = layout->aorta.describe(grid);
    for (const Shape& island : layout->fat_islands) c.fat_islands.push_back(island.describe(grid));
    c.landmark = layout->landmark.describe(grid);
    c.landmark_lobe = layout->landmark_lobe.describe(grid);
    c.target = layout->target.describe(grid);
    for (const auto& look_alike : layout->look_alikes)
      c.distractors.push_back({look_alike.placement, look_alike.shape.describe(grid)});
    c.intensities = look.intensities;
    c.noise_sigma_hu = look.noise_sigma_hu;
    c.bias_hu = look.bias_hu;
    return c;
  }
  throw Error(fmt::format("{}: no layout met the placement rules in {} attempts on a {}x{}x{} grid",
                          source, kMaxLayoutAttempts, options.dims[0], options.dims[1],
                          options.dims[2]));
}

void writeSyntheticAbdomen(const fs::path& dir, const SyntheticAbdomenOptions& options,
                           const SyntheticAbdomenProgress& progress) {
  checkOptions(options, dir.string());
  if (options.training_cases < 0 || options.test_cases < 0 ||
      options.training_cases + options.test_cases < 1)
    throw UsageError(fmt::format(
        "{}: synthetic abdomen needs at least one case and no negative counts, got {} training "
        "and {} test cases",
        dir.string(), options.training_cases, options.test_cases));
  StagedDatasetWriter writer;
  writer.what = "synthetic abdomen";
  writer.folders = {"imagesTr", "labelsTr", "imagesTs", "labelsTs", "generator"};
  writer.items = options.training_cases + options.test_cases;
  writer.write_item = [&options](const fs::path& staging, int index) {
    writeCase(staging, options, index);
  };
  writer.finish = [&options](const fs::path& staging) {
    writeFileAtomically(staging / "dataset.json", datasetJson(options).dump(2) + "\n");
  };
  writer.progress = progress;
  writeStagedDataset(dir, writer);
}

}  // namespace gatescope
