#pragma once

#include <string>
#include <vector>

#include "analysis/core/image.hpp"
#include "analysis/metrics/label_metrics.hpp"
#include "analysis/metrics/metric_config.hpp"

namespace gatescope {

// Every configured metric for every selected label of one (reference, prediction) pair, from one
// shared pass: one counting pass over both volumes, then per label a crop to the bounding box of
// the union, one border extraction per mask and one distance transform per direction.
//
// Inputs must share dims, spacing, origin and direction (GeometryError naming both otherwise) and
// hold labels: integer values 0..65535 in any integer or float datatype (FormatError otherwise).
// `reference_name` and `prediction_name` appear in error messages. The images are taken by value
// (move them in): their memory is released as soon as the label crops are cut out.
[[nodiscard]] std::vector<LabelMetrics> computeMetrics(Image reference, Image prediction,
                                                       const MetricConfig& config,
                                                       const std::string& reference_name,
                                                       const std::string& prediction_name);

}  // namespace gatescope
