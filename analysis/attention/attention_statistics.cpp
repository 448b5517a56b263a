#include "analysis/attention/attention_statistics.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "analysis/core/json_number.hpp"
#include "analysis/metrics/distance_transform.hpp"

namespace gatescope {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Voxels within `margin_mm` of the mask (the mask itself included), by exact Euclidean distance.
std::vector<uint8_t> dilate(const Volume<uint8_t>& mask, double margin_mm) {
  std::vector<uint8_t> out(mask.values().begin(), mask.values().end());
  if (margin_mm <= 0.0) return out;
  const auto squared =
      squaredDistanceTransform(mask.values(), mask.dims(), mask.geometry().spacing_mm);
  const double limit = margin_mm * margin_mm;
  for (size_t v = 0; v < out.size(); ++v) out[v] = squared[v] <= limit;
  return out;
}

void setAllNaN(AttentionStatistics& s) {
  s.mass_in_reference = s.mass_in_reference_dilated = s.pointing_game = kNaN;
  s.mean_inside = s.mean_outside = s.contrast = kNaN;
  s.entropy = s.entropy_normalized = s.coverage_reference = s.precision_above_threshold = kNaN;
}

}  // namespace

std::vector<AttentionStatistics> attentionStatistics(const Volume<float>& alpha,
                                                     const Volume<uint8_t>& reference,
                                                     const AttentionOptions& options) {
  if (!alpha.geometry().sameGrid(reference.geometry()))
    throw GeometryError(fmt::format("attention map {} and reference {} are on different grids",
                                    alpha.geometry().describe(), reference.geometry().describe()));
  const auto mask = reference.values();
  int64_t inside_count = 0;
  for (uint8_t m : mask) inside_count += m != 0;
  const std::vector<uint8_t> dilated = dilate(reference, options.dilation_mm);
  const std::vector<uint8_t> pointing_zone = dilate(reference, options.pointing_tolerance_mm);
  const auto voxels = static_cast<double>(mask.size());

  std::vector<AttentionStatistics> out;
  for (int64_t c = 0; c < alpha.channels(); ++c) {
    AttentionStatistics s;
    const auto a = alpha.channel(c);
    double total = 0, inside = 0, in_dilated = 0, peak = -1;
    size_t peak_at = 0;
    int64_t above = 0, above_inside = 0;  // above_inside: voxels of the reference covered
    for (size_t v = 0; v < a.size(); ++v) {
      const double x = a[v];
      if (!std::isfinite(x) || x < 0)
        throw Error(
            fmt::format("attention coefficients must be finite and non-negative; found {} "
                        "at voxel {} of channel {}",
                        x, v, c));
      total += x;
      if (mask[v]) inside += x;
      if (dilated[v]) in_dilated += x;
      if (x > peak) {
        peak = x;
        peak_at = v;
      }
      if (x >= options.threshold) {
        ++above;
        if (mask[v]) ++above_inside;
      }
    }
    if (inside_count == 0) {
      setAllNaN(s);
      s.status = "reference_empty";
      out.push_back(s);
      continue;
    }
    double entropy = 0;
    if (total > 0)
      for (const float x : a)
        if (x > 0) {
          const double p = x / total;
          entropy -= p * std::log(p);
        }
    const auto outside_count = static_cast<double>(mask.size()) - static_cast<double>(inside_count);
    s.mass_in_reference = total > 0 ? inside / total : kNaN;
    s.mass_in_reference_dilated = total > 0 ? in_dilated / total : kNaN;
    s.pointing_game = total > 0 ? (pointing_zone[peak_at] ? 1.0 : 0.0) : kNaN;
    s.mean_inside = inside / static_cast<double>(inside_count);
    s.mean_outside = outside_count > 0 ? (total - inside) / outside_count : kNaN;
    s.contrast =
        s.mean_outside > 0 ? s.mean_inside / s.mean_outside : (s.mean_inside > 0 ? HUGE_VAL : kNaN);
    s.entropy = total > 0 ? entropy : kNaN;
    s.entropy_normalized = total > 0 && voxels > 1 ? entropy / std::log(voxels) : kNaN;
    s.coverage_reference = static_cast<double>(above_inside) / static_cast<double>(inside_count);
    s.precision_above_threshold =
        above > 0 ? static_cast<double>(above_inside) / static_cast<double>(above) : kNaN;
    if (total == 0) s.status = "no_attention";
    out.push_back(s);
  }
  return out;
}

nlohmann::ordered_json toJson(const AttentionStatistics& s) {
  return {{"mass_in_reference", jsonNumber(s.mass_in_reference)},
          {"mass_in_reference_dilated", jsonNumber(s.mass_in_reference_dilated)},
          {"pointing_game", jsonNumber(s.pointing_game)},
          {"mean_inside", jsonNumber(s.mean_inside)},
          {"mean_outside", jsonNumber(s.mean_outside)},
          {"contrast", jsonNumber(s.contrast)},
          {"entropy", jsonNumber(s.entropy)},
          {"entropy_normalized", jsonNumber(s.entropy_normalized)},
          {"coverage_reference", jsonNumber(s.coverage_reference)},
          {"precision_above_threshold", jsonNumber(s.precision_above_threshold)},
          {"status", s.status}};
}

}  // namespace gatescope
