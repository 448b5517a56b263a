#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "analysis/metrics/metric_config.hpp"

namespace gatescope::cli {

// The metric options `metrics` and `evaluate` share: --labels, --preset, --percentile,
// --tolerance-mm, --include-background, --connectivity.
struct MetricOptions {
  std::string labels = "all";
  std::string preset = "default";
  double percentile = 95.0;
  std::string tolerances = "1,2";
  bool include_background = false;
  std::string connectivity = "face";
};

void addMetricOptions(CLI::App& command, MetricOptions& options);
// UsageError naming the option for a value out of range.
[[nodiscard]] MetricConfig metricConfigFrom(const MetricOptions& options);
// "1,2.5" -> {1, 2.5}: non-negative finite numbers (UsageError naming `option` otherwise).
[[nodiscard]] std::vector<double> parseNumberList(const std::string& text,
                                                  const std::string& option);

}  // namespace gatescope::cli
