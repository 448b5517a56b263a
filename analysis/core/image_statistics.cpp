#include "analysis/core/image_statistics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <type_traits>
#include <unordered_map>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

template <typename T>
void countLabels(std::span<const T> values, std::map<int64_t, int64_t>& labels) {
  if constexpr (sizeof(T) <= 2) {
    // Dense histogram: one pass, no hashing.
    constexpr int64_t lowest = std::numeric_limits<T>::min();
    std::vector<int64_t> histogram(size_t{1} << (8 * sizeof(T)), 0);
    for (T v : values) ++histogram[static_cast<size_t>(static_cast<int64_t>(v) - lowest)];
    for (size_t n = 0; n < histogram.size(); ++n)
      if (histogram[n] > 0) labels[static_cast<int64_t>(n) + lowest] = histogram[n];
  } else {
    std::unordered_map<int64_t, int64_t> counts;
    for (T v : values) ++counts[static_cast<int64_t>(v)];
    labels.insert(counts.begin(), counts.end());
  }
}

}  // namespace

ImageStatistics computeStatistics(const Image& image) {
  ImageStatistics stats;
  const Scaling scaling = image.header.scaling;
  std::visit(
      [&](const auto& volume) {
        using T = typename std::decay_t<decltype(volume)>::value_type;
        const auto values = volume.values();
        double lo = std::numeric_limits<double>::infinity();
        double hi = -std::numeric_limits<double>::infinity();
        double sum = 0.0;
        int64_t finite = 0;
        for (T raw : values) {
          const double v = scaling.isIdentity()
                               ? static_cast<double>(raw)
                               : scaling.slope * static_cast<double>(raw) + scaling.intercept;
          if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(v)) {
              ++stats.n_nan;
              continue;
            }
            if (std::isinf(v)) {
              ++stats.n_inf;
              continue;
            }
          }
          lo = std::min(lo, v);
          hi = std::max(hi, v);
          sum += v;
          ++finite;
        }
        const double nan = std::numeric_limits<double>::quiet_NaN();
        stats.min = finite ? lo : nan;
        stats.max = finite ? hi : nan;
        stats.mean = finite ? sum / static_cast<double>(finite) : nan;
        if constexpr (std::is_integral_v<T>) {
          if (scaling.isIdentity()) {
            stats.has_labels = true;
            countLabels<T>(values, stats.labels);
          }
        }
      },
      image.voxels);
  return stats;
}

void checkFiniteValues(const Image& image, const std::string& source) {
  int64_t bad = 0, total = 0;
  std::visit(
      [&](const auto& volume) {
        using T = typename std::decay_t<decltype(volume)>::value_type;
        total = static_cast<int64_t>(volume.size());
        if constexpr (std::is_floating_point_v<T>) {
          for (const T v : volume.values()) bad += std::isfinite(v) ? 0 : 1;
        }
      },
      image.voxels);
  // Integer data is finite; scaling by a finite slope and intercept (checked on reading) keeps it
  // so, short of an overflow to infinity in float.
  if (bad == 0 && !image.header.scaling.isIdentity() && image.dataType() != DataType::Float32 &&
      image.dataType() != DataType::Float64) {
    const Volume<float> real = toFloatVolume(image);
    for (const float v : real.values()) bad += std::isfinite(v) ? 0 : 1;
  }
  if (bad > 0)
    throw FormatError(fmt::format(
        "{}: {} of {} voxel value(s) are NaN or infinite; gatescope does not guess values "
        "for them (fill or mask them first)",
        source, bad, total));
}

void normalizeZScore(Volume<float>& volume) {
  for (int64_t c = 0; c < volume.channels(); ++c) {
    auto values = volume.channel(c);
    double sum = 0, squares = 0;
    for (float x : values) sum += x;
    const double mean = sum / static_cast<double>(values.size());
    for (float x : values) squares += (x - mean) * (x - mean);
    double sd = std::sqrt(squares / static_cast<double>(values.size()));
    if (!(sd > 0)) sd = 1.0;
    for (float& x : values) x = static_cast<float>((x - mean) / sd);
  }
}

}  // namespace gatescope
