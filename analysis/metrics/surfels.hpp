#pragma once

#include <array>

#include "analysis/metrics/label_masks.hpp"
#include "analysis/metrics/label_metrics.hpp"

namespace gatescope {

// Area in mm^2 of the marching-cubes surface inside one 2x2x2 cell, per neighbour code (bit b set
// = the voxel at offset (-(b>>2 & 1), -(b>>1 & 1), -(b & 1)) from the cell's corner is inside), as
// DeepMind's surface-distance library defines it: triangles between edge midpoints, each
// configuration with more than four inside voxels triangulated as its complement.
[[nodiscard]] std::array<double, 256> surfelAreaTable(const Vec3& spacing_mm);
// Contour length in mm per 2x2 neighbour code (8 = (-1,-1), 4 = (-1,0), 2 = (0,-1), 1 = (0,0)).
[[nodiscard]] std::array<double, 16> contourLengthTable(const Vec3& spacing_mm);

// The deepmind preset's distance metrics of a label whose masks are both non-empty: surfels on
// the voxel-corner grid, each weighted by its area, distances between surfel grid points.
void setSurfelDistanceMetrics(LabelMetrics& m, LabelMasks masks, const Vec3& spacing_mm,
                              const MetricConfig& config, DistanceWorkspace& workspace);

}  // namespace gatescope
