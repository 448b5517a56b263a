#include "analysis/core/geometry.hpp"

#include <fmt/format.h>

#include <cmath>

namespace gatescope {

Mat3 identityMatrix() {
  return {{{1.0, 0.0, 0.0}, {0.0, 1.0, 0.0}, {0.0, 0.0, 1.0}}};
}

Affine Geometry::affine() const {
  Affine a{};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) a[r][c] = direction[r][c] * spacing_mm[c];
    a[r][3] = origin[r];
  }
  a[3] = {0.0, 0.0, 0.0, 1.0};
  return a;
}

Vec3 Geometry::indexToWorld(const Vec3& ijk) const {
  Vec3 world = origin;
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) world[r] += direction[r][c] * spacing_mm[c] * ijk[c];
  return world;
}

Mat3 inverse(const Mat3& m) {
  const double det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
                     m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
                     m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
  Mat3 r{};
  r[0][0] = (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det;
  r[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
  r[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
  r[1][0] = (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det;
  r[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
  r[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
  r[2][0] = (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det;
  r[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
  r[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
  return r;
}

Mat3 Geometry::linearPart() const {
  Mat3 m{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) m[r][c] = direction[r][c] * spacing_mm[c];
  return m;
}

Vec3 Geometry::worldToIndex(const Vec3& world) const {
  const Mat3 to_index = inverse(linearPart());
  Vec3 index{};
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) index[r] += to_index[r][c] * (world[c] - origin[c]);
  return index;
}

Geometry Geometry::fromAffine(const Index3& dims, const Affine& affine) {
  Geometry g;
  g.dims = dims;
  for (int c = 0; c < 3; ++c) {
    const double norm = std::sqrt(affine[0][c] * affine[0][c] + affine[1][c] * affine[1][c] +
                                  affine[2][c] * affine[2][c]);
    g.spacing_mm[c] = norm > 0.0 ? norm : 1.0;
    for (int r = 0; r < 3; ++r)
      g.direction[r][c] = norm > 0.0 ? affine[r][c] / norm : (r == c ? 1.0 : 0.0);
  }
  for (int r = 0; r < 3; ++r) g.origin[r] = affine[r][3];
  return g;
}

namespace {
bool close(double a, double b, double relative, double absolute) {
  return std::abs(a - b) <= absolute + relative * std::max(std::abs(a), std::abs(b));
}
}  // namespace

bool Geometry::sameGrid(const Geometry& other, double tolerance) const {
  if (dims != other.dims) return false;
  // Origins are compared relative to the grid's extent so that a far-away origin is not held to
  // sub-micrometre agreement.
  double extent = 0.0;
  for (int c = 0; c < 3; ++c)
    extent = std::max(extent, spacing_mm[c] * static_cast<double>(dims[c]));
  for (int c = 0; c < 3; ++c) {
    if (!close(spacing_mm[c], other.spacing_mm[c], tolerance, 0.0)) return false;
    if (!close(origin[c], other.origin[c], tolerance, tolerance * extent)) return false;
    for (int r = 0; r < 3; ++r)
      if (!close(direction[r][c], other.direction[r][c], 0.0, tolerance)) return false;
  }
  return true;
}

std::string Geometry::difference(const Geometry& other, double tolerance) const {
  const auto triple = [](const auto& v) {
    return fmt::format("({:.9g}, {:.9g}, {:.9g})", v[0], v[1], v[2]);
  };
  if (dims != other.dims)
    return fmt::format("dims {}x{}x{} vs {}x{}x{}", dims[0], dims[1], dims[2], other.dims[0],
                       other.dims[1], other.dims[2]);
  double extent = 0.0;
  for (int c = 0; c < 3; ++c)
    extent = std::max(extent, spacing_mm[c] * static_cast<double>(dims[c]));
  std::string out;
  const auto add = [&](const std::string& part) { out += (out.empty() ? "" : "; ") + part; };
  for (int c = 0; c < 3; ++c)
    if (!close(spacing_mm[c], other.spacing_mm[c], tolerance, 0.0)) {
      add(fmt::format("spacing {} vs {} mm", triple(spacing_mm), triple(other.spacing_mm)));
      break;
    }
  for (int c = 0; c < 3; ++c)
    if (!close(origin[c], other.origin[c], tolerance, tolerance * extent)) {
      add(fmt::format("origin {} vs {} mm", triple(origin), triple(other.origin)));
      break;
    }
  for (int c = 0; c < 3; ++c)
    for (int r = 0; r < 3; ++r)
      if (!close(direction[r][c], other.direction[r][c], 0.0, tolerance)) {
        add(fmt::format("direction column {} {} vs {}", c,
                        triple(std::array{direction[0][c], direction[1][c], direction[2][c]}),
                        triple(std::array{other.direction[0][c], other.direction[1][c],
                                          other.direction[2][c]})));
        r = 3;
        c = 3;
      }
  return out;
}

std::string Geometry::describe() const {
  return fmt::format("{}x{}x{} @ {:.6g}x{:.6g}x{:.6g} mm, origin ({:.6g}, {:.6g}, {:.6g})", dims[0],
                     dims[1], dims[2], spacing_mm[0], spacing_mm[1], spacing_mm[2], origin[0],
                     origin[1], origin[2]);
}

}  // namespace gatescope
