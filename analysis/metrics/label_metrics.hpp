#pragma once

#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/metrics/metric_config.hpp"

namespace gatescope {

enum class EmptyStatus { Ok, BothEmpty, ReferenceEmpty, PredictionEmpty };
[[nodiscard]] const char* emptyStatusName(EmptyStatus status);

// Every metric of one label of one (reference, prediction) pair. NaN where a value is undefined
// under the preset's empty-mask policy.
struct LabelMetrics {
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

  int64_t label = 0;
  EmptyStatus status = EmptyStatus::Ok;
  std::string error;  // set when the preset's library raises (medpy on empty masks)

  int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  double dice = kNaN, jaccard = kNaN, precision = kNaN, recall = kNaN, specificity = kNaN;
  double volume_similarity = kNaN;
  double reference_volume_mm3 = 0.0, prediction_volume_mm3 = 0.0;

  double hd_mm = kNaN, hd_percentile_mm = kNaN;
  double assd_mm = kNaN, masd_mm = kNaN;
  double asd_prediction_to_reference_mm = kNaN, asd_reference_to_prediction_mm = kNaN;
  std::vector<double> nsd;  // one per configured tolerance
};

// The metric keys of docs/evaluation.md, in report order, with the value of each.
struct NamedValue {
  std::string key;
  double value;
  bool higher_is_better;
};
[[nodiscard]] std::vector<NamedValue> namedValues(const LabelMetrics& m,
                                                  const MetricConfig& config);

// {"dice": 0.8, ..., "status": "ok"} with non-finite values as "nan"/"inf" strings.
[[nodiscard]] nlohmann::ordered_json toJson(const LabelMetrics& m, const MetricConfig& config);

}  // namespace gatescope
