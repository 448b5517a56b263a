#include "analysis/attention/gate_resampling.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

// Source samples and weights of each kept output index along one axis, with PyTorch's
// conventions (single-precision source coordinates, clamped at zero and at the last sample).
struct AxisWeights {
  std::vector<int64_t> lo, hi;
  std::vector<float> w_lo, w_hi;
};

AxisWeights axisWeights(int64_t in, int64_t out, int64_t keep, bool align_corners) {
  AxisWeights w;
  float scale = 0.0f;
  if (align_corners)
    scale = out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  else
    scale = static_cast<float>(in) / static_cast<float>(out);
  for (int64_t o = 0; o < keep; ++o) {
    float source = align_corners ? scale * static_cast<float>(o)
                                 : std::max(scale * (static_cast<float>(o) + 0.5f) - 0.5f, 0.0f);
    const auto lo = std::min(static_cast<int64_t>(source), in - 1);
    const int64_t hi = std::min(lo + 1, in - 1);
    const float lambda = std::min(source - static_cast<float>(lo), 1.0f);
    w.lo.push_back(lo);
    w.hi.push_back(hi);
    w.w_lo.push_back(1.0f - lambda);
    w.w_hi.push_back(lambda);
  }
  return w;
}

}  // namespace

Volume<float> interpolateLinear(const Volume<float>& source, const Index3& target,
                                const Geometry& grid, bool align_corners) {
  const Index3 in = source.dims();
  const Index3 keep = grid.dims;
  for (size_t a = 0; a < 3; ++a)
    if (target[a] < 1 || keep[a] > target[a] || in[a] < 1)
      throw GeometryError("interpolateLinear: cannot keep " + std::to_string(keep[a]) + " of " +
                          std::to_string(target[a]) + " voxels interpolated from " +
                          std::to_string(in[a]));
  const AxisWeights wi = axisWeights(in[0], target[0], keep[0], align_corners);
  const AxisWeights wj = axisWeights(in[1], target[1], keep[1], align_corners);
  const AxisWeights wk = axisWeights(in[2], target[2], keep[2], align_corners);
  const int64_t channels = source.channels();
  const int64_t ni = keep[0], nj = keep[1], nk = keep[2];

  // Pass 1 along i, pass 2 along j, on the coarse k planes; pass 3 along k writes the result.
  std::vector<float> along_i(static_cast<size_t>(channels * ni * in[1] * in[2]));
  std::vector<float> along_j(static_cast<size_t>(channels * ni * nj * in[2]));
  const float* src = source.data();
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t row = 0; row < in[1] * in[2]; ++row) {
      const float* from = src + (c * in[2] * in[1] + row) * in[0];
      float* to = along_i.data() + (c * in[2] * in[1] + row) * ni;
      for (int64_t i = 0; i < ni; ++i) {
        const auto s = static_cast<size_t>(i);
        to[i] = wi.w_lo[s] * from[wi.lo[s]] + wi.w_hi[s] * from[wi.hi[s]];
      }
    }
#pragma omp parallel for collapse(3) schedule(static)
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < in[2]; ++k)
      for (int64_t j = 0; j < nj; ++j) {
        const auto s = static_cast<size_t>(j);
        const float* plane = along_i.data() + (c * in[2] + k) * in[1] * ni;
        const float* lo = plane + wj.lo[s] * ni;
        const float* hi = plane + wj.hi[s] * ni;
        float* to = along_j.data() + ((c * in[2] + k) * nj + j) * ni;
        for (int64_t i = 0; i < ni; ++i) to[i] = wj.w_lo[s] * lo[i] + wj.w_hi[s] * hi[i];
      }
  Volume<float> out(grid, channels);
  float* dst = out.data();
  const int64_t plane_size = ni * nj;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t k = 0; k < nk; ++k) {
      const auto s = static_cast<size_t>(k);
      const float* lo = along_j.data() + (c * in[2] + wk.lo[s]) * plane_size;
      const float* hi = along_j.data() + (c * in[2] + wk.hi[s]) * plane_size;
      float* to = dst + (c * nk + k) * plane_size;
      const float a = wk.w_lo[s], b = wk.w_hi[s];
      for (int64_t n = 0; n < plane_size; ++n) to[n] = a * lo[n] + b * hi[n];
    }
  return out;
}

Volume<float> resampleNearest(const Volume<float>& source, const Geometry& target) {
  const Geometry& grid = source.geometry();
  // world -> source index, composed once: source index = inverse(L_source) (world - origin_source)
  const Mat3 to_source = inverse(grid.linearPart());
  Volume<float> out(target, 1, std::numeric_limits<float>::quiet_NaN());
  for (int64_t k = 0; k < target.dims[2]; ++k)
    for (int64_t j = 0; j < target.dims[1]; ++j)
      for (int64_t i = 0; i < target.dims[0]; ++i) {
        const Vec3 world = target.indexToWorld(
            {static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
        Index3 nearest{};
        bool inside = true;
        for (int r = 0; r < 3; ++r) {
          double at = 0.0;
          for (int c = 0; c < 3; ++c) at += to_source[r][c] * (world[c] - grid.origin[c]);
          nearest[r] = std::lround(at);
          inside = inside && nearest[r] >= 0 && nearest[r] < grid.dims[r];
        }
        if (inside) out(i, j, k) = source(nearest[0], nearest[1], nearest[2]);
      }
  return out;
}

Geometry strideGrid(const Geometry& image, const Index3& stride, const Index3& dims) {
  Geometry own = image;
  own.dims = dims;
  for (size_t axis = 0; axis < 3; ++axis) {
    own.spacing_mm[axis] = image.spacing_mm[axis] * static_cast<double>(stride[axis]);
    for (size_t r = 0; r < 3; ++r)
      own.origin[r] += image.direction[r][axis] * image.spacing_mm[axis] * 0.5 *
                       static_cast<double>(stride[axis] - 1);
  }
  return own;
}

}  // namespace gatescope
