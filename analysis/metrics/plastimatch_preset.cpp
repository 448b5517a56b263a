#include "analysis/metrics/plastimatch_preset.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>

namespace gatescope {

namespace {

// Per voxel: the offset (in voxels, per axis) to the seed found so far; x = FLT_MAX when none.
class Propagation {
 public:
  Propagation(const std::vector<uint8_t>& seeds, const Index3& dims, const Vec3& spacing)
      : d_(dims), offsets_(seeds.size() * 3) {
    for (int a = 0; a < 3; ++a) {
      const auto s = static_cast<float>(spacing[static_cast<size_t>(a)]);
      sq_[a] = s * s;
    }
    for (size_t v = 0; v < seeds.size(); ++v) {
      const float x = seeds[v] ? 0.0f : FLT_MAX;
      offsets_[3 * v] = offsets_[3 * v + 1] = offsets_[3 * v + 2] = x;
    }
  }

  std::vector<float> run() {
    sweepPlane(0);
    for (int64_t k = 1; k < d_[2]; ++k) {
      for (int64_t j = 0; j < d_[1]; ++j)
        for (int64_t i = 0; i < d_[0]; ++i) propagate(at(i, j, k - 1), at(i, j, k), 2);
      sweepPlane(k);
    }
    for (int64_t k = d_[2] - 2; k >= 0; --k) {
      for (int64_t j = 0; j < d_[1]; ++j)
        for (int64_t i = 0; i < d_[0]; ++i) propagate(at(i, j, k + 1), at(i, j, k), 2);
      sweepPlane(k);
    }
    std::vector<float> distance(offsets_.size() / 3);
    for (size_t v = 0; v < distance.size(); ++v) {
      const float d = std::sqrt(squared(v, -1));
      distance[v] = d >= FLT_MAX ? FLT_MAX : d;
    }
    return distance;
  }

 private:
  [[nodiscard]] size_t at(int64_t i, int64_t j, int64_t k) const {
    return static_cast<size_t>(i + d_[0] * (j + d_[1] * k));
  }
  // Squared length in mm^2 of voxel v's offset, one step longer along `axis` (-1: as is).
  [[nodiscard]] float squared(size_t v, int axis) const {
    float sum = 0.0f;
    for (int a = 0; a < 3; ++a) {
      const float o = offsets_[3 * v + static_cast<size_t>(a)] + (a == axis ? 1.0f : 0.0f);
      sum = a == 0 ? o * o * sq_[0] : sum + o * o * sq_[a];
    }
    return sum;
  }
  void propagate(size_t from, size_t to, int axis) {
    if (offsets_[3 * from] == FLT_MAX) return;
    if (offsets_[3 * to] != FLT_MAX && !(squared(from, axis) < squared(to, -1))) return;
    for (int a = 0; a < 3; ++a)
      offsets_[3 * to + static_cast<size_t>(a)] = offsets_[3 * from + static_cast<size_t>(a)];
    offsets_[3 * to + static_cast<size_t>(axis)] += 1.0f;
  }
  void sweepRow(int64_t j, int64_t k) {
    for (int64_t i = 1; i < d_[0]; ++i) propagate(at(i - 1, j, k), at(i, j, k), 0);
    for (int64_t i = d_[0] - 2; i >= 0; --i) propagate(at(i + 1, j, k), at(i, j, k), 0);
  }
  void sweepPlane(int64_t k) {
    sweepRow(0, k);
    for (int64_t j = 1; j < d_[1]; ++j) {
      for (int64_t i = 0; i < d_[0]; ++i) propagate(at(i, j - 1, k), at(i, j, k), 1);
      sweepRow(j, k);
    }
    for (int64_t j = d_[1] - 2; j >= 0; --j) {
      for (int64_t i = 0; i < d_[0]; ++i) propagate(at(i, j + 1, k), at(i, j, k), 1);
      sweepRow(j, k);
    }
  }

  Index3 d_;
  std::vector<float> offsets_;
  float sq_[3] = {1, 1, 1};
};

struct DirectedBoundary {
  float max = 0, mean = 0, percentile = 0;
  std::vector<double> distances;
};

// plastimatch's statistics of one direction: float max, mean as float(double sum / n), and the
// element of 0-based rank floor(p * n - 1) (computed in float) without interpolation.
DirectedBoundary summarizeDirection(std::vector<float> values, double percentile) {
  DirectedBoundary d;
  d.distances.assign(values.begin(), values.end());
  if (values.empty()) return d;
  double sum = 0;
  for (float v : values) {
    d.max = std::max(d.max, v);
    sum += v;
  }
  const auto n = static_cast<int64_t>(values.size());
  d.mean = static_cast<float>(sum / static_cast<double>(n));
  const float fraction = static_cast<float>(percentile / 100.0);
  auto rank = static_cast<int64_t>(std::floor(fraction * static_cast<float>(n) - 1.0f));
  rank = std::min(rank, n - 1);
  if (rank < 0) {
    d.percentile = 0.0f;  // plastimatch reads before the array here; in practice 0
  } else {
    std::nth_element(values.begin(), values.begin() + rank, values.end());
    d.percentile = values[static_cast<size_t>(rank)];
  }
  return d;
}

}  // namespace

std::vector<float> danielssonDistanceMap(const std::vector<uint8_t>& seeds, const Index3& dims,
                                         const Vec3& spacing_mm) {
  return Propagation(seeds, dims, spacing_mm).run();
}

template <typename T>
void setPlastimatchDistanceMetrics(LabelMetrics& m, const T* reference, const T* prediction,
                                   const Index3& image_dims, const Box& union_box, T label,
                                   const Vec3& spacing_mm, const MetricConfig& config) {
  // plastimatch crops with size = min(hi - lo + 1, N - 1): an axis the union spans completely
  // loses its last slice (a single-slice axis keeps its one slice here; plastimatch aborts).
  Box box = union_box;
  for (int a = 0; a < 3; ++a)
    if (image_dims[static_cast<size_t>(a)] > 1 &&
        box.hi[a] - box.lo[a] + 1 > image_dims[static_cast<size_t>(a)] - 1)
      box.hi[a] = box.lo[a] + image_dims[static_cast<size_t>(a)] - 2;
  const Index3 n = box.size();
  const size_t voxels = static_cast<size_t>(n[0] * n[1] * n[2]);
  std::vector<uint8_t> in_reference(voxels), in_prediction(voxels);
  for (int64_t k = 0; k < n[2]; ++k)
    for (int64_t j = 0; j < n[1]; ++j)
      for (int64_t i = 0; i < n[0]; ++i) {
        const int64_t v =
            ((box.lo[2] + k) * image_dims[1] + box.lo[1] + j) * image_dims[0] + box.lo[0] + i;
        const size_t c = static_cast<size_t>((k * n[1] + j) * n[0] + i);
        in_reference[c] = reference[v] == label;
        in_prediction[c] = prediction[v] == label;
      }
  // Boundary: a 6-neighbour outside the mask; outside the crop counts as background, except
  // along an axis whose crop is one voxel thick, where it counts as foreground.
  const auto boundary = [&](const std::vector<uint8_t>& mask) {
    std::vector<uint8_t> out(voxels, 0);
    const int64_t step[3] = {1, n[0], n[0] * n[1]};
    for (int64_t k = 0; k < n[2]; ++k)
      for (int64_t j = 0; j < n[1]; ++j)
        for (int64_t i = 0; i < n[0]; ++i) {
          const size_t c = static_cast<size_t>((k * n[1] + j) * n[0] + i);
          if (!mask[c]) continue;
          const int64_t pos[3] = {i, j, k};
          for (int a = 0; a < 3 && !out[c]; ++a)
            for (int s = -1; s <= 1 && !out[c]; s += 2) {
              const int64_t q = pos[a] + s;
              const bool outside = q < 0 || q >= n[static_cast<size_t>(a)];
              const bool neighbour_in =
                  outside ? n[static_cast<size_t>(a)] == 1
                          : mask[static_cast<size_t>(static_cast<int64_t>(c) + s * step[a])] != 0;
              if (!neighbour_in) out[c] = 1;
            }
        }
    return out;
  };
  const auto reference_boundary = boundary(in_reference);
  const auto prediction_boundary = boundary(in_prediction);
  const auto to_reference = danielssonDistanceMap(reference_boundary, n, spacing_mm);
  const auto to_prediction = danielssonDistanceMap(prediction_boundary, n, spacing_mm);
  std::vector<float> r2p, p2r;
  for (size_t c = 0; c < voxels; ++c) {
    if (reference_boundary[c]) r2p.push_back(to_prediction[c]);
    if (prediction_boundary[c]) p2r.push_back(to_reference[c]);
  }
  const DirectedBoundary a = summarizeDirection(r2p, config.percentile);
  const DirectedBoundary b = summarizeDirection(p2r, config.percentile);
  m.hd_mm = std::max(a.max, b.max);
  m.hd_percentile_mm = 0.5f * a.percentile + 0.5f * b.percentile;
  m.asd_reference_to_prediction_mm = a.mean;
  m.asd_prediction_to_reference_mm = b.mean;
  m.assd_mm = m.masd_mm = 0.5f * a.mean + 0.5f * b.mean;
  const double total = static_cast<double>(a.distances.size() + b.distances.size());
  m.nsd.clear();
  for (const double tau : config.tolerances_mm) {
    const auto within = [tau](double x) { return x <= tau; };
    m.nsd.push_back(
        static_cast<double>(std::count_if(a.distances.begin(), a.distances.end(), within) +
                            std::count_if(b.distances.begin(), b.distances.end(), within)) /
        total);
  }
}

template void setPlastimatchDistanceMetrics<uint8_t>(LabelMetrics&, const uint8_t*, const uint8_t*,
                                                     const Index3&, const Box&, uint8_t,
                                                     const Vec3&, const MetricConfig&);
template void setPlastimatchDistanceMetrics<uint16_t>(LabelMetrics&, const uint16_t*,
                                                      const uint16_t*, const Index3&, const Box&,
                                                      uint16_t, const Vec3&, const MetricConfig&);

}  // namespace gatescope
