#include "analysis/metrics/distance_transform.hpp"

#include <cmath>
#include <limits>

namespace gatescope {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Scratch space for one line: the lower envelope of parabolas.
struct Envelope {
  std::vector<int64_t> vertex;
  std::vector<double> boundary;
  std::vector<double> line;
  explicit Envelope(int64_t n)
      : vertex(static_cast<size_t>(n)), boundary(static_cast<size_t>(n) + 1), line(static_cast<size_t>(n)) {}
};

// In place along one line of n values f[q * stride]:
//   f'(p) = min_q ( (spacing * (p - q))^2 + f(q) ).
void transformLine(double* f, int64_t n, int64_t stride, double spacing, Envelope& e) {
  for (int64_t q = 0; q < n; ++q) e.line[static_cast<size_t>(q)] = f[q * stride];
  const double* g = e.line.data();
  int64_t* v = e.vertex.data();
  double* z = e.boundary.data();
  int64_t k = -1;
  for (int64_t q = 0; q < n; ++q) {
    if (g[q] == kInfinity) continue;
    const double xq = spacing * static_cast<double>(q);
    while (k >= 0) {
      const double xv = spacing * static_cast<double>(v[k]);
      const double s = ((g[q] + xq * xq) - (g[v[k]] + xv * xv)) / (2.0 * (xq - xv));
      if (s > z[k]) {
        ++k;
        v[k] = q;
        z[k] = s;
        break;
      }
      --k;
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -kInfinity;
    }
    z[k + 1] = kInfinity;
  }
  if (k < 0) {  // no finite value on this line
    for (int64_t p = 0; p < n; ++p) f[p * stride] = kInfinity;
    return;
  }
  int64_t j = 0;
  for (int64_t p = 0; p < n; ++p) {
    const double xp = spacing * static_cast<double>(p);
    while (z[j + 1] < xp) ++j;
    const double d = spacing * static_cast<double>(p - v[j]);
    f[p * stride] = d * d + g[v[j]];
  }
}

}  // namespace

std::vector<double> squaredDistanceTransform(std::span<const uint8_t> feature,
                                             const std::array<int64_t, 3>& dims,
                                             const std::array<double, 3>& spacing_mm) {
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  std::vector<double> field(feature.size());
  for (size_t n = 0; n < feature.size(); ++n) field[n] = feature[n] ? 0.0 : kInfinity;
  double* f = field.data();

  // Along i (contiguous), then j, then k; each pass is exact given the previous one.
#pragma omp parallel
  {
    Envelope e(nx);
#pragma omp for schedule(static)
    for (int64_t line = 0; line < ny * nz; ++line) transformLine(f + line * nx, nx, 1, spacing_mm[0], e);
  }
  if (ny > 1) {
#pragma omp parallel
    {
      Envelope e(ny);
#pragma omp for schedule(static)
      for (int64_t k = 0; k < nz; ++k)
        for (int64_t i = 0; i < nx; ++i) transformLine(f + k * nx * ny + i, ny, nx, spacing_mm[1], e);
    }
  }
  if (nz > 1) {
#pragma omp parallel
    {
      Envelope e(nz);
#pragma omp for schedule(static)
      for (int64_t ji = 0; ji < nx * ny; ++ji) transformLine(f + ji, nz, nx * ny, spacing_mm[2], e);
    }
  }
  return field;
}

}  // namespace gatescope
