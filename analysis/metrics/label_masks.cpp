#include "analysis/metrics/label_masks.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/metrics/distance_transform.hpp"

namespace gatescope {

int64_t largestLabel(const Image& image, const std::string& name) {
  if (image.channels() != 1)
    throw FormatError(
        fmt::format("{}: a label image has one channel, this one has {}", name, image.channels()));
  const Scaling scaling = image.header.scaling;
  const auto fail = [&](int64_t index, double value) {
    throw FormatError(fmt::format(
        "{}: not a label image: voxel {} holds {} (labels are integers 0..65535; datatype {})",
        name, index, value, dataTypeName(image.dataType())));
  };
  return std::visit(
      [&](const auto& volume) -> int64_t {
        using T = typename std::decay_t<decltype(volume)>::value_type;
        const auto values = volume.values();
        const auto n = static_cast<int64_t>(values.size());
        if constexpr (std::is_integral_v<T>) {
          if (scaling.isIdentity()) {  // the common case: one vectorised min/max pass
            T lo = std::numeric_limits<T>::max(), hi = std::numeric_limits<T>::lowest();
#pragma omp parallel for reduction(min : lo) reduction(max : hi)
            for (int64_t v = 0; v < n; ++v) {
              lo = std::min(lo, values[static_cast<size_t>(v)]);
              hi = std::max(hi, values[static_cast<size_t>(v)]);
            }
            if (n == 0) return 0;
            if (lo < 0 || static_cast<int64_t>(hi) > 65535) {
              const T bad = lo < 0 ? lo : hi;
              fail(std::find(values.begin(), values.end(), bad) - values.begin(),
                   static_cast<double>(bad));
            }
            return static_cast<int64_t>(hi);
          }
        }
        double largest = 0.0;
        for (int64_t index = 0; index < n; ++index) {
          const double raw = static_cast<double>(values[static_cast<size_t>(index)]);
          const double v = scaling.isIdentity() ? raw : scaling.slope * raw + scaling.intercept;
          if (!(v >= 0.0 && v <= 65535.0 && v == std::floor(v))) fail(index, v);
          largest = std::max(largest, v);
        }
        return static_cast<int64_t>(largest);
      },
      image.voxels);
}

template <typename T>
LabelBuffer<T>::LabelBuffer(const Image& image) {
  if (const auto* same = std::get_if<Volume<T>>(&image.voxels);
      same && image.header.scaling.isIdentity()) {
    data_ = same->data();
    return;
  }
  const Scaling s = image.header.scaling;
  std::visit(
      [&](const auto& volume) {
        const auto values = volume.values();
        owned_.resize(values.size());
        for (size_t n = 0; n < values.size(); ++n)
          owned_[n] = static_cast<T>(s.isIdentity()
                                         ? static_cast<double>(values[n])
                                         : s.slope * static_cast<double>(values[n]) + s.intercept);
      },
      image.voxels);
  data_ = owned_.data();
}

template class LabelBuffer<uint8_t>;
template class LabelBuffer<uint16_t>;

template <typename T>
LabelMasks extractMasks(const T* reference, const T* prediction, const Index3& image_dims,
                        const Box& box, T label, uint8_t outside) {
  LabelMasks masks;
  masks.two_d = image_dims[2] == 1;
  masks.box_dims = box.size();
  const int64_t margin_k = masks.two_d ? 0 : 1;
  masks.padded_dims = {masks.box_dims[0] + 2, masks.box_dims[1] + 2,
                       masks.box_dims[2] + 2 * margin_k};
  const auto& pd = masks.padded_dims;
  const size_t n = static_cast<size_t>(pd[0] * pd[1] * pd[2]);
  masks.reference.assign(n, 0);
  masks.prediction.assign(n, 0);
#pragma omp parallel for schedule(static)
  for (int64_t pk = 0; pk < pd[2]; ++pk) {
    const int64_t k = box.lo[2] - margin_k + pk;
    for (int64_t pj = 0; pj < pd[1]; ++pj) {
      const int64_t j = box.lo[1] - 1 + pj;
      const size_t row = static_cast<size_t>((pk * pd[1] + pj) * pd[0]);
      const bool row_inside = j >= 0 && j < image_dims[1] && k >= 0 && k < image_dims[2];
      for (int64_t pi = 0; pi < pd[0]; ++pi) {
        const int64_t i = box.lo[0] - 1 + pi;
        if (row_inside && i >= 0 && i < image_dims[0]) {
          const int64_t v = (k * image_dims[1] + j) * image_dims[0] + i;
          masks.reference[row + pi] = reference[v] == label;
          masks.prediction[row + pi] = prediction[v] == label;
        } else {
          masks.reference[row + pi] = masks.prediction[row + pi] = outside;
        }
      }
    }
  }
  return masks;
}

template LabelMasks extractMasks<uint8_t>(const uint8_t*, const uint8_t*, const Index3&, const Box&,
                                          uint8_t, uint8_t);
template LabelMasks extractMasks<uint16_t>(const uint16_t*, const uint16_t*, const Index3&,
                                           const Box&, uint16_t, uint8_t);

std::vector<uint8_t> borderOf(const std::vector<uint8_t>& padded_mask, const LabelMasks& layout,
                              Connectivity connectivity) {
  const auto& bd = layout.box_dims;
  const auto& pd = layout.padded_dims;
  const int64_t margin_k = layout.two_d ? 0 : 1;
  // Neighbour offsets in the padded grid.
  std::vector<int64_t> offsets;
  for (int64_t dk = -margin_k; dk <= margin_k; ++dk)
    for (int64_t dj = -1; dj <= 1; ++dj)
      for (int64_t di = -1; di <= 1; ++di) {
        const int64_t steps = std::abs(di) + std::abs(dj) + std::abs(dk);
        if (steps == 0 || (connectivity == Connectivity::Face && steps > 1)) continue;
        offsets.push_back((dk * pd[1] + dj) * pd[0] + di);
      }
  std::vector<uint8_t> border(static_cast<size_t>(bd[0] * bd[1] * bd[2]), 0);
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < bd[2]; ++k)
    for (int64_t j = 0; j < bd[1]; ++j)
      for (int64_t i = 0; i < bd[0]; ++i) {
        const int64_t p = ((k + margin_k) * pd[1] + (j + 1)) * pd[0] + (i + 1);
        if (!padded_mask[static_cast<size_t>(p)]) continue;
        for (const int64_t o : offsets)
          if (!padded_mask[static_cast<size_t>(p + o)]) {
            border[static_cast<size_t>((k * bd[1] + j) * bd[0] + i)] = 1;
            break;
          }
      }
  return border;
}

DirectedDistances borderDistances(LabelMasks masks, const Vec3& spacing_mm,
                                  Connectivity connectivity, DistanceWorkspace& workspace) {
  const std::vector<uint8_t> reference_border = borderOf(masks.reference, masks, connectivity);
  const std::vector<uint8_t> prediction_border = borderOf(masks.prediction, masks, connectivity);
  masks.reference = {};
  masks.prediction = {};
  DirectedDistances d;
  d.prediction_to_reference = distancesToFeature(reference_border, prediction_border,
                                                 masks.box_dims, spacing_mm, workspace);
  d.reference_to_prediction = distancesToFeature(prediction_border, reference_border,
                                                 masks.box_dims, spacing_mm, workspace);
  return d;
}

}  // namespace gatescope
