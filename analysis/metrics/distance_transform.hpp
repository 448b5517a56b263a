#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace gatescope {

// Exact squared Euclidean distance transform on an anisotropic grid (Felzenszwalb-Huttenlocher,
// separable, linear time, double precision). For every voxel of a grid of `dims` (i fastest),
// returns the squared distance in mm^2 from its centre to the centre of the nearest voxel where
// `feature` is non-zero; +infinity where there is no feature at all. Lines run in parallel.
[[nodiscard]] std::vector<double> squaredDistanceTransform(std::span<const uint8_t> feature,
                                                           const std::array<int64_t, 3>& dims,
                                                           const std::array<double, 3>& spacing_mm);

// Scratch memory of distance transforms, kept between calls: fresh pages cost the kernel a
// zero-fill each, which on large grids costs as much as the transform itself.
class DistanceWorkspace {
 public:
  DistanceWorkspace();
  ~DistanceWorkspace();
  DistanceWorkspace(const DistanceWorkspace&) = delete;
  DistanceWorkspace& operator=(const DistanceWorkspace&) = delete;
  // At least `n` doubles, not initialised.
  [[nodiscard]] double* field(size_t n);

 private:
  double* data_ = nullptr;
  size_t capacity_ = 0;
};

// The distances in mm (not squared) from each voxel where `query` is non-zero, in memory order,
// to the nearest `feature` voxel; +infinity without features. Same algorithm, but the last pass
// only visits lines that hold a query voxel.
[[nodiscard]] std::vector<double> distancesToFeature(std::span<const uint8_t> feature,
                                                     std::span<const uint8_t> query,
                                                     const std::array<int64_t, 3>& dims,
                                                     const std::array<double, 3>& spacing_mm,
                                                     DistanceWorkspace& workspace);

}  // namespace gatescope
