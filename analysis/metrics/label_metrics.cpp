#include "analysis/metrics/label_metrics.hpp"

#include "analysis/core/json_number.hpp"

namespace gatescope {

const char* emptyStatusName(EmptyStatus status) {
  switch (status) {
    case EmptyStatus::Ok:
      return "ok";
    case EmptyStatus::BothEmpty:
      return "both_empty";
    case EmptyStatus::ReferenceEmpty:
      return "reference_empty";
    case EmptyStatus::PredictionEmpty:
      return "prediction_empty";
  }
  return "unknown";
}

std::vector<NamedValue> namedValues(const LabelMetrics& m, const MetricConfig& config) {
  std::vector<NamedValue> values = {
      {"dice", m.dice, true},
      {"jaccard", m.jaccard, true},
      {"precision", m.precision, true},
      {"recall", m.recall, true},
      {"specificity", m.specificity, true},
      {"volume_similarity", m.volume_similarity, true},
      {"tp", static_cast<double>(m.tp), true},
      {"fp", static_cast<double>(m.fp), false},
      {"fn", static_cast<double>(m.fn), false},
      {"tn", static_cast<double>(m.tn), true},
      {"reference_volume_mm3", m.reference_volume_mm3, true},
      {"prediction_volume_mm3", m.prediction_volume_mm3, true},
      {"hd_mm", m.hd_mm, false},
      {percentileKey(config.percentile), m.hd_percentile_mm, false},
      {"assd_mm", m.assd_mm, false},
      {"masd_mm", m.masd_mm, false},
      {"asd_prediction_to_reference_mm", m.asd_prediction_to_reference_mm, false},
      {"asd_reference_to_prediction_mm", m.asd_reference_to_prediction_mm, false},
  };
  for (size_t t = 0; t < config.tolerances_mm.size(); ++t)
    values.push_back({toleranceKey(config.tolerances_mm[t]),
                      t < m.nsd.size() ? m.nsd[t] : LabelMetrics::kNaN, true});
  return values;
}

nlohmann::ordered_json toJson(const LabelMetrics& m, const MetricConfig& config) {
  nlohmann::ordered_json out;
  for (const auto& v : namedValues(m, config)) {
    const bool count = v.key == "tp" || v.key == "fp" || v.key == "fn" || v.key == "tn";
    out[v.key] =
        count ? nlohmann::ordered_json(static_cast<int64_t>(v.value)) : jsonNumber(v.value);
  }
  out["status"] = emptyStatusName(m.status);
  if (!m.error.empty()) out["error"] = m.error;
  return out;
}

}  // namespace gatescope
