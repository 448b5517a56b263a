#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "analysis/stats/paired.hpp"

namespace gatescope {

// A report of `gatescope evaluate` / `gatescope compare` (docs/evaluation.md,
// docs/report.schema.json) is plain JSON: provenance, "models", "dataset" and one record per case.
// The summary and the paired comparison are derived from the case records, so a report read back
// from disk can be summarised and compared again.

// The direction of a metric or attention statistic: true when higher is better, false when lower
// is better, nullopt when it has none (voxel counts, volumes).
[[nodiscard]] std::optional<bool> higherIsBetter(const std::string& key);

// A report value as a number: JSON numbers and the strings "nan", "inf", "-inf"; nullopt for
// anything else ("status", "error").
[[nodiscard]] std::optional<double> reportNumber(const nlohmann::ordered_json& value);

// Checks a report read from `source` before anything trusts it (docs/evaluation.md): the schema,
// models, one record per case id (a duplicated id would be paired twice), statuses, and every
// metric and attention statistic a number or "nan"/"inf"/"-inf". FormatError naming the file, the
// case and the field. UsageError for a classification report (its own structure:
// docs/classification.md).
void validateReport(const nlohmann::ordered_json& report, const std::string& source);

// Replaces "summary" (per model: n_cases, n_failed, every label's metrics, every gate's attention
// statistics and every attribution map's) and, when the report has models A and B, "comparison"
// (per label and metric, over the cases where both have a value), "attention_comparison" (gates
// both have) and "attribution_comparison" (maps both have: same method and layer).
void summarizeReport(nlohmann::ordered_json& report, const PairedOptions& paired = {});

// One row per case, model and label: case_id, model, label, status, error, the metrics in report
// order, then every gate's attention statistics as <gate>:<statistic> and every attribution map's
// as <method>@<layer>:<statistic>.
[[nodiscard]] std::string reportCsv(const nlohmann::ordered_json& report);

}  // namespace gatescope
