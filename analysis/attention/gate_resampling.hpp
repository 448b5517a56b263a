#pragma once

#include "analysis/core/volume.hpp"

namespace gatescope {

// Linear interpolation (bilinear in 2D, trilinear in 3D) of every channel of `source` onto a grid
// of `target` voxels per axis spanning the same extent, keeping the first `grid.dims` voxels of
// each axis: what PyTorch's F.interpolate(size=target, mode="trilinear", align_corners=...)
// followed by cropping gives. Axes where source and target sizes agree are copied. The result
// carries `grid`. Separable: three passes of two reads per output voxel instead of eight, written
// straight into volume order.
[[nodiscard]] Volume<float> interpolateLinear(const Volume<float>& source, const Index3& target,
                                              const Geometry& grid, bool align_corners);

// The grid of a map a network computes at `stride` image voxels per voxel along each axis (a
// gate's, a layer's): `dims` voxels, each `stride` times the image's spacing, the first one's
// centre (stride - 1) / 2 image voxels in.
[[nodiscard]] Geometry strideGrid(const Geometry& image, const Index3& stride, const Index3& dims);

// Channel 0 of `source` brought onto `target` by nearest-neighbour sampling in world space: each
// target voxel takes the source voxel nearest to its centre, NaN where that lies outside the
// source grid. For showing a gate's native map on the image grid as the network computed it,
// blocky.
[[nodiscard]] Volume<float> resampleNearest(const Volume<float>& source, const Geometry& target);

}  // namespace gatescope
