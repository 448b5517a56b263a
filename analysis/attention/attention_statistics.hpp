#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/core/volume.hpp"

namespace gatescope {

struct AttentionOptions {
  double dilation_mm = 10.0;           // margin of mass_in_reference_dilated
  double pointing_tolerance_mm = 0.0;  // the maximum may lie this far outside the reference
  double threshold = 0.5;              // for coverage_reference and precision_above_threshold
};

// Where one gate channel's attention coefficients (alpha, resampled to the input grid) put their
// weight relative to a reference mask (docs/metrics.md). NaN values and status "reference_empty"
// when the mask is empty; "no_attention" when alpha sums to zero.
struct AttentionStatistics {
  double mass_in_reference = 0, mass_in_reference_dilated = 0, pointing_game = 0;
  double mean_inside = 0, mean_outside = 0, contrast = 0;
  double entropy = 0, entropy_normalized = 0;
  double coverage_reference = 0, precision_above_threshold = 0;
  std::string status = "ok";
};

// One entry per channel of `alpha`. `reference` is a binary mask (non-zero = inside) on the same
// grid (GeometryError otherwise); alpha must be finite and non-negative (Error otherwise).
[[nodiscard]] std::vector<AttentionStatistics> attentionStatistics(
    const Volume<float>& alpha, const Volume<uint8_t>& reference,
    const AttentionOptions& options = {});

[[nodiscard]] nlohmann::ordered_json toJson(const AttentionStatistics& s);

}  // namespace gatescope
