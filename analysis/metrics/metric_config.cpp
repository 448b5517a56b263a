#include "analysis/metrics/metric_config.hpp"

#include <fmt/format.h>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {
constexpr std::pair<MetricPreset, const char*> kPresets[] = {
    {MetricPreset::Default, "default"},
    {MetricPreset::Monai, "monai"},
    {MetricPreset::Medpy, "medpy"},
    {MetricPreset::DeepMind, "deepmind"},
    {MetricPreset::Plastimatch, "plastimatch"},
    {MetricPreset::MetricsReloaded, "metricsreloaded"},
};

// 95 -> "95", 99.5 -> "99.5", 2.25 -> "2.25": shortest form that reads back exactly.
std::string shortNumber(double value) {
  return fmt::format("{}", value);
}
}  // namespace

const char* presetName(MetricPreset preset) {
  for (const auto& [p, name] : kPresets)
    if (p == preset) return name;
  return "unknown";
}

MetricPreset parsePreset(const std::string& name) {
  for (const auto& [p, known] : kPresets)
    if (name == known) return p;
  std::string list;
  for (const auto& known : presetNames()) list += (list.empty() ? "" : ", ") + known;
  throw UsageError("unknown metric preset '" + name + "' (known: " + list + ")");
}

std::vector<std::string> presetNames() {
  std::vector<std::string> names;
  for (const auto& [p, name] : kPresets) names.emplace_back(name);
  return names;
}

std::string percentileKey(double percentile) {
  return "hd" + shortNumber(percentile) + "_mm";
}
std::string toleranceKey(double tolerance_mm) {
  return "nsd_" + shortNumber(tolerance_mm) + "mm";
}

}  // namespace gatescope
