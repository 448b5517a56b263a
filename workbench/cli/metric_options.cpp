#include "workbench/cli/metric_options.hpp"

#include <fmt/format.h>

#include <cmath>
#include <sstream>

#include "analysis/core/error.hpp"

namespace gatescope::cli {

std::vector<double> parseNumberList(const std::string& text, const std::string& option) {
  std::vector<double> numbers;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    try {
      size_t used = 0;
      const double v = std::stod(item, &used);
      if (used != item.size() || !std::isfinite(v) || v < 0) throw std::invalid_argument(item);
      numbers.push_back(v);
    } catch (const std::exception&) {
      throw UsageError(fmt::format("{}: '{}' is not a non-negative number", option, item));
    }
  }
  if (numbers.empty()) throw UsageError(option + ": give at least one value");
  return numbers;
}

MetricConfig metricConfigFrom(const MetricOptions& o) {
  MetricConfig config;
  config.preset = parsePreset(o.preset);
  config.include_background = o.include_background;
  if (!(o.percentile >= 0.0 && o.percentile <= 100.0))
    throw UsageError(fmt::format("--percentile {} is outside 0..100", o.percentile));
  config.percentile = o.percentile;
  config.tolerances_mm = parseNumberList(o.tolerances, "--tolerance-mm");
  if (o.labels != "all") {
    std::vector<int64_t> labels;
    for (double v : parseNumberList(o.labels, "--labels")) {
      if (v != std::floor(v))
        throw UsageError(fmt::format("--labels: {} is not an integer label", v));
      labels.push_back(static_cast<int64_t>(v));
    }
    config.labels = labels;
  }
  if (o.connectivity != "face" && o.connectivity != "full")
    throw UsageError("--connectivity must be face or full");
  config.full_connectivity = o.connectivity == "full";
  if (config.full_connectivity && config.preset != MetricPreset::Default &&
      config.preset != MetricPreset::Medpy)
    throw UsageError("--connectivity full applies to the default and medpy presets only");
  return config;
}

void addMetricOptions(CLI::App& command, MetricOptions& o) {
  command
      .add_option("--labels", o.labels,
                  "Labels to measure: all or a list like 1,2 (all: every label present, or for "
                  "evaluate the dataset's labels; background excluded)")
      ->capture_default_str();
  command
      .add_option("--preset", o.preset,
                  "Definitions to reproduce: default, monai, medpy, deepmind, plastimatch, "
                  "metricsreloaded (docs/metrics.md)")
      ->capture_default_str();
  command
      .add_option("--percentile", o.percentile,
                  "Percentile of the robust Hausdorff distance (hdP_mm)")
      ->capture_default_str();
  command
      .add_option("--tolerance-mm", o.tolerances,
                  "Normalised surface Dice tolerances in mm, comma separated")
      ->capture_default_str();
  command.add_flag("--include-background", o.include_background, "Also measure label 0");
  command
      .add_option(
          "--connectivity", o.connectivity,
          "Border neighbourhood: face (6/4 neighbours) or full (26/8; medpy connectivity=ndim)")
      ->capture_default_str();
}

}  // namespace gatescope::cli
