#include "analysis/metrics/distance_transform.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>
#include <utility>

namespace gatescope {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// Scratch space for one line: the lower envelope of parabolas. Boundaries between parabolas are
// kept as fractions (numerator, positive denominator) and compared by cross-multiplication, which
// avoids a division per sample.
struct Envelope {
  std::vector<int64_t> vertex;
  std::vector<double> numerator, denominator;
  std::vector<double> line;
  explicit Envelope(int64_t n)
      : vertex(static_cast<size_t>(n)),
        numerator(static_cast<size_t>(n)),
        denominator(static_cast<size_t>(n)),
        line(static_cast<size_t>(n)) {}
};

// In place along one line of n values f[q * stride]:
//   f'(p) = min_q ( (spacing * (p - q))^2 + f(q) ).
void transformLine(double* f, int64_t n, int64_t stride, double spacing, Envelope& e) {
  for (int64_t q = 0; q < n; ++q) e.line[static_cast<size_t>(q)] = f[q * stride];
  const double* g = e.line.data();
  int64_t* v = e.vertex.data();
  double* num = e.numerator.data();  // boundary k lies at num[k] / den[k]; boundary 0 is -inf
  double* den = e.denominator.data();
  int64_t k = -1;
  double hv = 0.0, xv = 0.0;  // g + x^2 and x of the parabola at the top of the envelope
  for (int64_t q = 0; q < n; ++q) {
    if (g[q] == kInfinity) continue;
    const double xq = spacing * static_cast<double>(q);
    const double hq = g[q] + xq * xq;
    while (k >= 0) {
      const double sn = hq - hv, sd = 2.0 * (xq - xv);  // intersection with the top parabola
      if (k == 0 || sn * den[k] > num[k] * sd) {
        ++k;
        v[k] = q;
        num[k] = sn;
        den[k] = sd;
        break;
      }
      --k;
      const double x = spacing * static_cast<double>(v[k]);
      xv = x;
      hv = g[v[k]] + x * x;
    }
    if (k < 0) {
      k = 0;
      v[0] = q;
    }
    xv = xq;
    hv = hq;
  }
  if (k < 0) {  // no finite value on this line
    for (int64_t p = 0; p < n; ++p) f[p * stride] = kInfinity;
    return;
  }
  int64_t j = 0;
  for (int64_t p = 0; p < n; ++p) {
    const double xp = spacing * static_cast<double>(p);
    while (j < k && num[j + 1] < xp * den[j + 1]) ++j;
    const double d = spacing * static_cast<double>(p - v[j]);
    f[p * stride] = d * d + g[v[j]];
  }
}

// Transforms the lines along an axis with element stride `stride`, for `count` groups of lines
// whose starting points are `first(g) + b` for b in [0, width): neighbouring lines are adjacent in
// memory, so they are gathered in blocks of kBlock into contiguous scratch space - reading whole
// cache lines instead of one value per line. Lines for which `wanted(g, b)` is false are skipped.
template <typename First, typename Wanted>
void transformStridedLines(double* f, int64_t n, int64_t stride, double spacing, int64_t count,
                           int64_t width, First first, Wanted wanted) {
  constexpr int64_t kBlock = 16;
#pragma omp parallel
  {
    Envelope e(n);
    std::vector<double> block(static_cast<size_t>(n * kBlock));
#pragma omp for schedule(dynamic, 4)
    for (int64_t g = 0; g < count; ++g) {
      double* base = f + first(g);
      for (int64_t b0 = 0; b0 < width; b0 += kBlock) {
        const int64_t lanes = std::min(kBlock, width - b0);
        bool any = false;
        for (int64_t b = 0; b < lanes && !any; ++b) any = wanted(g, b0 + b);
        if (!any) continue;
        for (int64_t q = 0; q < n; ++q)
          for (int64_t b = 0; b < lanes; ++b)
            block[static_cast<size_t>(b * n + q)] = base[q * stride + b0 + b];
        for (int64_t b = 0; b < lanes; ++b)
          if (wanted(g, b0 + b)) transformLine(block.data() + b * n, n, 1, spacing, e);
        for (int64_t q = 0; q < n; ++q)
          for (int64_t b = 0; b < lanes; ++b)
            base[q * stride + b0 + b] = block[static_cast<size_t>(b * n + q)];
      }
    }
  }
}

// Squared distance along each i-row to the nearest feature in that row: two linear scans.
void rowDistances(std::span<const uint8_t> feature, double* f, int64_t nx, int64_t rows,
                  double spacing) {
#pragma omp parallel for schedule(static)
  for (int64_t row = 0; row < rows; ++row) {
    const uint8_t* in = feature.data() + row * nx;
    double* out = f + row * nx;
    int64_t last = -1;
    for (int64_t i = 0; i < nx; ++i) {
      if (in[i]) last = i;
      out[i] = last < 0 ? kInfinity : spacing * static_cast<double>(i - last);
    }
    last = -1;
    for (int64_t i = nx - 1; i >= 0; --i) {
      if (in[i]) last = i;
      if (last >= 0) out[i] = std::min(out[i], spacing * static_cast<double>(last - i));
    }
    for (int64_t i = 0; i < nx; ++i) out[i] *= out[i];
  }
}

// The three passes; the last one only on lines where `wanted_column(i, j)` holds.
// The three passes into `f` (feature.size() values); the last pass only on lines where
// `wanted_column(i, j)` holds.
template <typename WantedColumn>
void transform(std::span<const uint8_t> feature, const std::array<int64_t, 3>& dims,
               const std::array<double, 3>& spacing_mm, WantedColumn wanted_column, double* f) {
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  rowDistances(feature, f, nx, ny * nz, spacing_mm[0]);
  const auto every = [](int64_t, int64_t) { return true; };
  if (ny > 1)
    transformStridedLines(
        f, ny, nx, spacing_mm[1], nz, nx, [&](int64_t k) { return k * nx * ny; }, every);
  if (nz > 1)
    transformStridedLines(
        f, nz, nx * ny, spacing_mm[2], ny, nx, [&](int64_t j) { return j * nx; },
        [&](int64_t j, int64_t i) { return wanted_column(i, j); });
}

}  // namespace

std::vector<double> squaredDistanceTransform(std::span<const uint8_t> feature,
                                             const std::array<int64_t, 3>& dims,
                                             const std::array<double, 3>& spacing_mm) {
  std::vector<double> field(feature.size());
  transform(
      feature, dims, spacing_mm, [](int64_t, int64_t) { return true; }, field.data());
  return field;
}

DistanceWorkspace::DistanceWorkspace() = default;
DistanceWorkspace::~DistanceWorkspace() {
  std::free(data_);
}

double* DistanceWorkspace::field(size_t n) {
  if (n > capacity_) {
    std::free(data_);
    data_ = nullptr;
    capacity_ = 0;
    // 2 MiB aligned so the kernel can back it with huge pages (far fewer page faults).
    constexpr size_t kHuge = size_t{2} << 20;
    const size_t bytes = (n * sizeof(double) + kHuge - 1) / kHuge * kHuge;
    data_ = static_cast<double*>(std::aligned_alloc(kHuge, bytes));
    if (!data_) throw std::bad_alloc();
    ::madvise(data_, bytes, MADV_HUGEPAGE);
    capacity_ = bytes / sizeof(double);
  }
  return data_;
}

std::vector<double> distancesToFeature(std::span<const uint8_t> feature,
                                       std::span<const uint8_t> query,
                                       const std::array<int64_t, 3>& dims,
                                       const std::array<double, 3>& spacing_mm,
                                       DistanceWorkspace& workspace) {
  const int64_t nx = dims[0], ny = dims[1], nz = dims[2];
  std::vector<uint8_t> column(static_cast<size_t>(nx * ny), 0);  // (i, j) columns holding queries
  for (int64_t k = 0; k < nz; ++k)
    for (int64_t ji = 0; ji < nx * ny; ++ji)
      column[static_cast<size_t>(ji)] |= query[static_cast<size_t>(k * nx * ny + ji)];
  double* squared = workspace.field(feature.size());
  transform(
      feature, dims, spacing_mm,
      [&](int64_t i, int64_t j) { return column[static_cast<size_t>(j * nx + i)] != 0; }, squared);
  std::vector<double> out;
  for (size_t v = 0; v < query.size(); ++v)
    if (query[v]) out.push_back(std::sqrt(squared[v]));
  return out;
}

}  // namespace gatescope
