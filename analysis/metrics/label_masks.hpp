#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "analysis/core/image.hpp"
#include "analysis/metrics/distance_transform.hpp"

namespace gatescope {

// Inclusive voxel bounding box; empty until a voxel is added.
struct Box {
  Index3 lo{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::max(),
            std::numeric_limits<int64_t>::max()};
  Index3 hi{-1, -1, -1};

  [[nodiscard]] bool empty() const { return hi[0] < lo[0]; }
  void add(int64_t i, int64_t j, int64_t k) {
    lo = {std::min(lo[0], i), std::min(lo[1], j), std::min(lo[2], k)};
    hi = {std::max(hi[0], i), std::max(hi[1], j), std::max(hi[2], k)};
  }
  void merge(const Box& other) {
    if (other.empty()) return;
    add(other.lo[0], other.lo[1], other.lo[2]);
    add(other.hi[0], other.hi[1], other.hi[2]);
  }
  [[nodiscard]] Index3 size() const {
    return {hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1};
  }
  [[nodiscard]] static Box whole(const Index3& dims) {
    Box b;
    b.lo = {0, 0, 0};
    b.hi = {dims[0] - 1, dims[1] - 1, dims[2] - 1};
    return b;
  }
};

// Largest label value, after checking that the image holds labels: one channel of integers in
// 0..65535 (float and scaled images are accepted when every value is such an integer).
[[nodiscard]] int64_t largestLabel(const Image& image, const std::string& name);

// The labels of an image as T (uint8_t or uint16_t): a view of the image's own buffer when it
// already stores unscaled T, else a converted copy. Call largestLabel first.
template <typename T>
class LabelBuffer {
 public:
  explicit LabelBuffer(const Image& image);
  [[nodiscard]] const T* data() const { return data_; }

 private:
  std::vector<T> owned_;
  const T* data_ = nullptr;
};

enum class Connectivity { Face, Full };  // 6/4 or 26/8 neighbours

// Binary masks of one label in both volumes, cropped to `box` plus a one-voxel margin (none
// along k for 2D images). Margin voxels outside the image hold `outside` (0: the image edge is a
// border, 1: it is not).
struct LabelMasks {
  Index3 box_dims;
  Index3 padded_dims;
  bool two_d = false;
  std::vector<uint8_t> reference;
  std::vector<uint8_t> prediction;
};

template <typename T>
[[nodiscard]] LabelMasks extractMasks(const T* reference, const T* prediction,
                                      const Index3& image_dims, const Box& box, T label,
                                      uint8_t outside);

// Border voxels (mask voxels with at least one neighbour outside the mask), on the box grid.
[[nodiscard]] std::vector<uint8_t> borderOf(const std::vector<uint8_t>& padded_mask,
                                            const LabelMasks& layout, Connectivity connectivity);

// Distances in mm from each border voxel of one mask to the nearest border voxel of the other.
struct DirectedDistances {
  std::vector<double> prediction_to_reference;
  std::vector<double> reference_to_prediction;
};

// Consumes the masks: they are freed once their borders are extracted.
[[nodiscard]] DirectedDistances borderDistances(LabelMasks masks, const Vec3& spacing_mm,
                                                Connectivity connectivity,
                                                DistanceWorkspace& workspace);

}  // namespace gatescope
