#pragma once

#include <cstdint>
#include <vector>

#include "analysis/metrics/label_masks.hpp"
#include "analysis/metrics/label_metrics.hpp"

namespace gatescope {

// plastimatch's native distance map (a Danielsson raster-scan vector propagation in float, not an
// exact EDT): distance in mm from every voxel centre to the nearest seed it propagates to.
// FLT_MAX everywhere without seeds. Sweep order and float arithmetic as plastimatch 1.9.
[[nodiscard]] std::vector<float> danielssonDistanceMap(const std::vector<uint8_t>& seeds,
                                                       const Index3& dims, const Vec3& spacing_mm);

// The plastimatch preset's distance metrics ("dice --all", boundary variants) of a label whose
// masks are both non-empty, including plastimatch's crop of the union bounding box (which drops
// the last slice of an axis the union spans completely) and its float statistics.
template <typename T>
void setPlastimatchDistanceMetrics(LabelMetrics& m, const T* reference, const T* prediction,
                                   const Index3& image_dims, const Box& union_box, T label,
                                   const Vec3& spacing_mm, const MetricConfig& config);

}  // namespace gatescope
