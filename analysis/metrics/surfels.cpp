#include "analysis/metrics/surfels.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

#include "analysis/metrics/distance_transform.hpp"
#include "analysis/metrics/marching_cubes_table.hpp"

namespace gatescope {

namespace {

using Point = std::array<double, 3>;

// Unit-cube corner positions and edges in the triangulation table's numbering.
constexpr std::array<Point, 8> kCorners = {
    {{0, 0, 0}, {1, 0, 0}, {1, 1, 0}, {0, 1, 0}, {0, 0, 1}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}}};
constexpr std::array<std::array<int, 2>, 12> kEdges = {{{0, 1},
                                                        {1, 2},
                                                        {2, 3},
                                                        {3, 0},
                                                        {4, 5},
                                                        {5, 6},
                                                        {6, 7},
                                                        {7, 4},
                                                        {0, 4},
                                                        {1, 5},
                                                        {2, 6},
                                                        {3, 7}}};

int cornerIndex(const Point& p) {
  for (int v = 0; v < 8; ++v)
    if (kCorners[static_cast<size_t>(v)] == p) return v;
  return -1;
}

struct DirectedSurfels {
  std::vector<double> distances;
  std::vector<double> areas;
};

double weightedMean(const DirectedSurfels& s) {
  double weighted = 0, total = 0;
  for (size_t n = 0; n < s.distances.size(); ++n) {
    weighted += s.distances[n] * s.areas[n];
    total += s.areas[n];
  }
  return weighted / total;
}

// The first distance (in ascending order) at which the cumulative area fraction reaches p.
double areaPercentile(const DirectedSurfels& s, double percentile) {
  std::vector<std::pair<double, double>> pairs(s.distances.size());
  for (size_t n = 0; n < pairs.size(); ++n) pairs[n] = {s.distances[n], s.areas[n]};
  std::sort(pairs.begin(), pairs.end());
  double total = 0;
  for (const auto& p : pairs) total += p.second;
  double cumulative = 0;
  for (size_t n = 0; n < pairs.size(); ++n) {
    cumulative += pairs[n].second;
    if (cumulative / total >= percentile / 100.0) return pairs[n].first;
  }
  return pairs.back().first;
}

double areaWithin(const DirectedSurfels& s, double tolerance) {
  double area = 0;
  for (size_t n = 0; n < s.distances.size(); ++n)
    if (s.distances[n] <= tolerance) area += s.areas[n];
  return area;
}

}  // namespace

std::array<double, 256> surfelAreaTable(const Vec3& s) {
  std::array<double, 256> table{};
  const auto& triangles = marchingCubesTriangles();
  for (int code = 0; code < 256; ++code) {
    const int configuration = std::popcount(static_cast<unsigned>(code)) > 4 ? 255 - code : code;
    int cube = 0;
    for (int b = 0; b < 8; ++b)
      if (configuration >> b & 1)
        cube |= 1 << cornerIndex({1.0 - (b >> 2 & 1), 1.0 - (b >> 1 & 1), 1.0 - (b & 1)});
    const auto& edges = triangles[static_cast<size_t>(cube)];
    double area = 0;
    for (size_t t = 0; t + 2 < edges.size(); t += 3) {
      std::array<Point, 3> v{};
      for (int e = 0; e < 3; ++e) {
        const auto& [a, b] = kEdges[static_cast<size_t>(edges[t + static_cast<size_t>(e)])];
        for (int c = 0; c < 3; ++c)
          v[static_cast<size_t>(e)][static_cast<size_t>(c)] =
              0.5 * (kCorners[static_cast<size_t>(a)][static_cast<size_t>(c)] +
                     kCorners[static_cast<size_t>(b)][static_cast<size_t>(c)]);
      }
      const Point u = {v[1][0] - v[0][0], v[1][1] - v[0][1], v[1][2] - v[0][2]};
      const Point w = {v[2][0] - v[0][0], v[2][1] - v[0][1], v[2][2] - v[0][2]};
      // Area vector of the triangle in voxel units, mapped to mm by the cofactors of diag(s).
      const Point n = {0.5 * (u[1] * w[2] - u[2] * w[1]) * s[1] * s[2],
                       0.5 * (u[2] * w[0] - u[0] * w[2]) * s[0] * s[2],
                       0.5 * (u[0] * w[1] - u[1] * w[0]) * s[0] * s[1]};
      area += std::sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    }
    table[static_cast<size_t>(code)] = area;
  }
  return table;
}

std::array<double, 16> contourLengthTable(const Vec3& s) {
  const double diagonal = 0.5 * std::sqrt(s[0] * s[0] + s[1] * s[1]);
  return {0.0,      diagonal,     diagonal, s[1],     diagonal, s[0],     2 * diagonal, diagonal,
          diagonal, 2 * diagonal, s[0],     diagonal, s[1],     diagonal, diagonal,     0.0};
}

void setSurfelDistanceMetrics(LabelMetrics& m, LabelMasks masks, const Vec3& spacing_mm,
                              const MetricConfig& config, DistanceWorkspace& workspace) {
  const Index3& pd = masks.padded_dims;
  const bool two_d = masks.two_d;
  // Corner grid: one point per 2x2(x2) cell, box size + 1 along each axis.
  const Index3 grid = {pd[0] - 1, pd[1] - 1, two_d ? 1 : pd[2] - 1};
  const size_t points = static_cast<size_t>(grid[0] * grid[1] * grid[2]);
  const auto area3 = surfelAreaTable(spacing_mm);
  const auto length2 = contourLengthTable(spacing_mm);
  const int full = two_d ? 15 : 255;

  const auto surfels = [&](const std::vector<uint8_t>& mask, std::vector<uint8_t>& border,
                           std::vector<double>& area) {
    border.assign(points, 0);
    area.assign(points, 0.0);
#pragma omp parallel for schedule(static)
    for (int64_t k = 0; k < grid[2]; ++k)
      for (int64_t j = 0; j < grid[1]; ++j)
        for (int64_t i = 0; i < grid[0]; ++i) {
          int code = 0;
          if (two_d) {
            const auto at = [&](int64_t a, int64_t b) {
              return mask[static_cast<size_t>(b * pd[0] + a)];
            };
            code = 8 * at(i, j) + 4 * at(i, j + 1) + 2 * at(i + 1, j) + at(i + 1, j + 1);
          } else {
            for (int b = 0; b < 8; ++b) {
              const int64_t a = i + 1 - (b >> 2 & 1), c = j + 1 - (b >> 1 & 1), d = k + 1 - (b & 1);
              code |= mask[static_cast<size_t>((d * pd[1] + c) * pd[0] + a)] << b;
            }
          }
          if (code == 0 || code == full) continue;
          const size_t p = static_cast<size_t>((k * grid[1] + j) * grid[0] + i);
          border[p] = 1;
          area[p] = two_d ? length2[static_cast<size_t>(code)] : area3[static_cast<size_t>(code)];
        }
  };
  std::vector<uint8_t> reference_border, prediction_border;
  std::vector<double> reference_area, prediction_area;
  surfels(masks.reference, reference_border, reference_area);
  surfels(masks.prediction, prediction_border, prediction_area);
  masks.reference = {};
  masks.prediction = {};

  const auto collect = [](const std::vector<uint8_t>& border, const std::vector<double>& area) {
    std::vector<double> out;
    for (size_t p = 0; p < border.size(); ++p)
      if (border[p]) out.push_back(area[p]);
    return out;
  };
  DirectedSurfels r2p{
      distancesToFeature(prediction_border, reference_border, grid, spacing_mm, workspace),
      collect(reference_border, reference_area)};
  DirectedSurfels p2r{
      distancesToFeature(reference_border, prediction_border, grid, spacing_mm, workspace),
      collect(prediction_border, prediction_area)};

  m.asd_reference_to_prediction_mm = weightedMean(r2p);
  m.asd_prediction_to_reference_mm = weightedMean(p2r);
  m.masd_mm = 0.5 * (m.asd_reference_to_prediction_mm + m.asd_prediction_to_reference_mm);
  double weighted = 0, total = 0;
  for (const DirectedSurfels* s : {&r2p, &p2r})
    for (size_t n = 0; n < s->distances.size(); ++n) {
      weighted += s->distances[n] * s->areas[n];
      total += s->areas[n];
    }
  m.assd_mm = weighted / total;
  m.hd_mm = std::max(*std::max_element(r2p.distances.begin(), r2p.distances.end()),
                     *std::max_element(p2r.distances.begin(), p2r.distances.end()));
  m.hd_percentile_mm =
      std::max(areaPercentile(r2p, config.percentile), areaPercentile(p2r, config.percentile));
  m.nsd.clear();
  for (const double tau : config.tolerances_mm)
    m.nsd.push_back((areaWithin(r2p, tau) + areaWithin(p2r, tau)) / total);
}

}  // namespace gatescope
