#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "analysis/metrics/label_metrics.hpp"
#include "analysis/metrics/metric_config.hpp"

namespace gatescope {

// One (reference, prediction) pair to measure.
struct CasePair {
  std::string id;
  std::filesystem::path reference;   // empty when missing
  std::filesystem::path prediction;  // empty when missing
};

// Pairs two files, or two folders by case id (file name without .nii/.nii.gz/.png). A case with a
// missing partner is kept (it fails with a clear error). UsageError for a file and a folder,
// a path that does not exist, or folders without images.
[[nodiscard]] std::vector<CasePair> pairCases(const std::filesystem::path& reference,
                                              const std::filesystem::path& prediction);

struct CaseMetrics {
  CasePair pair;
  bool ok = false;
  std::string error;         // one line, naming the file, when !ok
  double diagonal_mm = 0.0;  // of the image grid, for worst-case substitution
  std::vector<LabelMetrics> labels;
  double seconds = 0.0;
};

// Summaries of non-finite values: skip (count them, aggregate the rest) or substitute +inf
// distances by the image diagonal (worst) or a fixed value in mm.
struct NonFinitePolicy {
  enum class Mode { Skip, Diagonal, Value } mode = Mode::Skip;
  double value_mm = 0.0;
};

struct MetricsReport {
  MetricConfig config;
  NonFinitePolicy nonfinite;
  std::vector<CaseMetrics> cases;
};

using CaseCallback = std::function<void(size_t done, size_t total, const CaseMetrics& last)>;

// Measures every case; a case that fails is recorded with its error and the run goes on.
[[nodiscard]] MetricsReport runMetrics(const std::vector<CasePair>& cases,
                                       const MetricConfig& config, const NonFinitePolicy& nonfinite,
                                       const CaseCallback& progress = {});

// docs/metrics.md "gatescope metrics --json".
[[nodiscard]] nlohmann::ordered_json metricsReportJson(const MetricsReport& report);
// One row per case and label: case_id, reference, prediction, label, status, error, metrics...
[[nodiscard]] std::string metricsReportCsv(const MetricsReport& report);

}  // namespace gatescope
