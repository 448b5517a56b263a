#pragma once

// What the report plots show, as plain data taken from a ReportModel: the workbench draws or
// tabulates the same data the CLI plots. Missing, failed, NaN and infinite values are left out and
// counted. `label` is a label key ("1") or its name ("liver"). Unknown labels, metrics, gates or
// statistics throw UsageError naming the report file and listing what it has.
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analysis/evaluation/report_model.hpp"

namespace gatescope {

// One metric of one label for models A and B, case by case.
struct PairedMetricData {
  std::string metric;  // report key, e.g. "dice", "hd95_mm"
  ReportLabel label;
  std::string model_a_name, model_b_name;
  std::optional<bool> higher_is_better;  // none for counts and volumes
  std::vector<std::string> case_ids;     // cases where both models have a finite value
  std::vector<double> a, b;              // aligned with case_ids
  int64_t n_cases = 0;                   // cases in the report
  int64_t n_left_out = 0;                // cases without a finite value from both models
  std::optional<double> p_value;         // Wilcoxon signed-rank p, report["comparison"]
};

// Volumes of one label for one model, in ml (mm3 / 1000).
struct BlandAltmanSeries {
  std::string model;  // "A", "B"
  std::string model_name;
  std::vector<std::string> case_ids;
  std::vector<double> mean_ml;        // (reference + prediction) / 2
  std::vector<double> difference_ml;  // prediction - reference
  int64_t n_left_out = 0;
  double bias_ml = std::numeric_limits<double>::quiet_NaN();  // mean difference
  double sd_ml = std::numeric_limits<double>::quiet_NaN();  // sample SD (n - 1) of the differences

  [[nodiscard]] double lowerLimit() const { return bias_ml - 1.96 * sd_ml; }
  [[nodiscard]] double upperLimit() const { return bias_ml + 1.96 * sd_ml; }
};

struct BlandAltmanData {
  ReportLabel label;
  int64_t n_cases = 0;
  std::vector<BlandAltmanSeries> models;  // A, then B when the report has it
};

// One attention statistic of one label at one gate of one model, case by case.
struct GateStatisticSeries {
  std::string gate;
  std::string model;  // "A", "B"
  std::string model_name;
  std::vector<std::string> case_ids;
  std::vector<double> values;
  int64_t n_left_out = 0;  // cases without a finite value (failed, gate or label missing, NaN/inf)
};

struct GateStatisticsData {
  std::string statistic;  // e.g. "mass_in_reference"
  ReportLabel label;
  std::optional<bool> higher_is_better;
  std::vector<std::string> gates;               // report order
  std::vector<std::string> models;              // the models with gates: "A", "B" or both
  std::vector<GateStatisticSeries> series;      // gate by gate, models in `models` order
  std::vector<std::optional<double>> p_values;  // per gate: Wilcoxon p from attention_comparison
  int64_t n_cases = 0;
};

[[nodiscard]] PairedMetricData pairedMetricData(const ReportModel& report, const std::string& label,
                                                const std::string& metric);
[[nodiscard]] BlandAltmanData blandAltmanData(const ReportModel& report, const std::string& label);
// `gates` empty: every gate of the report.
[[nodiscard]] GateStatisticsData gateStatisticsData(
    const ReportModel& report, const std::string& label,
    const std::string& statistic = "mass_in_reference", const std::vector<std::string>& gates = {});

}  // namespace gatescope
