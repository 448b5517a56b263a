#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace gatescope {

using Vec3 = std::array<double, 3>;
using Index3 = std::array<int64_t, 3>;
// Row-major 3x3 matrix; column c is the world direction of voxel axis c.
using Mat3 = std::array<std::array<double, 3>, 3>;
// Row-major 4x4 voxel-to-world matrix (world in mm, NIfTI RAS+ as nibabel reports it).
using Affine = std::array<std::array<double, 4>, 4>;

[[nodiscard]] Mat3 identityMatrix();
// The inverse of a 3x3 matrix by its adjugate; the caller makes sure it is invertible (a grid's
// voxel-to-world matrix always is).
[[nodiscard]] Mat3 inverse(const Mat3& m);

// Where a voxel grid sits in the world. Voxel index (i, j, k) is the order stored in the file,
// i varying fastest in memory. world = origin + direction * diag(spacing_mm) * (i, j, k).
struct Geometry {
  Index3 dims{1, 1, 1};
  Vec3 spacing_mm{1.0, 1.0, 1.0};
  Vec3 origin{0.0, 0.0, 0.0};
  Mat3 direction = identityMatrix();

  [[nodiscard]] int64_t voxelCount() const { return dims[0] * dims[1] * dims[2]; }
  [[nodiscard]] bool is2D() const { return dims[2] == 1; }
  [[nodiscard]] Affine affine() const;
  [[nodiscard]] Vec3 indexToWorld(const Vec3& ijk) const;
  // The linear part of indexToWorld: direction * diag(spacing_mm).
  [[nodiscard]] Mat3 linearPart() const;
  // Continuous voxel coordinates of a world point: the inverse of indexToWorld.
  [[nodiscard]] Vec3 worldToIndex(const Vec3& world) const;
  // Spacing and direction from the columns of a voxel-to-world matrix (shears are not kept).
  [[nodiscard]] static Geometry fromAffine(const Index3& dims, const Affine& affine);
  // Same dims, and spacing, origin and direction equal within a relative tolerance.
  [[nodiscard]] bool sameGrid(const Geometry& other, double tolerance = 1e-4) const;
  // "96x96x48 @ 0.8x0.8x2.5 mm, origin (0, 0, 0)"
  [[nodiscard]] std::string describe() const;
  // What differs from `other` ("spacing (1, 1, 2) vs (1, 1, 2.5) mm; origin ..."), in the terms of
  // sameGrid; empty when sameGrid holds.
  [[nodiscard]] std::string difference(const Geometry& other, double tolerance = 1e-4) const;
};

}  // namespace gatescope
