#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gatescope {

// Which library's definitions the numbers reproduce (docs/metrics.md).
enum class MetricPreset { Default, Monai, Medpy, DeepMind, Plastimatch, MetricsReloaded };

[[nodiscard]] const char* presetName(MetricPreset preset);
// Throws UsageError listing the known names.
[[nodiscard]] MetricPreset parsePreset(const std::string& name);
[[nodiscard]] std::vector<std::string> presetNames();

struct MetricConfig {
  MetricPreset preset = MetricPreset::Default;
  std::optional<std::vector<int64_t>> labels;  // empty optional: every label present in either
  bool include_background = false;
  double percentile = 95.0;
  std::vector<double> tolerances_mm = {1.0, 2.0};
  bool full_connectivity = false;  // 26/8-neighbour borders (medpy connectivity = ndim)
};

// "hd95_mm", "hd99.5_mm"; "nsd_1mm", "nsd_2.5mm".
[[nodiscard]] std::string percentileKey(double percentile);
[[nodiscard]] std::string toleranceKey(double tolerance_mm);

}  // namespace gatescope
