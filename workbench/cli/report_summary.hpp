#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "analysis/evaluation/report_model.hpp"

namespace gatescope::cli {

// A short text summary of an evaluation report (docs/evaluation.md): per model and label mean Dice
// and HD95 and failed cases; per gate (and attribution map) and label the mean attention mass
// inside the label, inside its dilation, the pointing game and the contrast; the paired A-B
// comparison of Dice and HD95, and of the attribution maps' mass inside each label.
void printReportSummary(const ReportModel& report, std::ostream& out);

// The same for a classification report (docs/classification.md): per model accuracy, balanced
// accuracy, macro F1, Cohen's kappa, macro ROC AUC and log loss, the gates' mean attention against
// the images' masks or boxes, and the paired comparison (McNemar, bootstrap intervals).
void printClassificationSummary(const nlohmann::ordered_json& report, std::ostream& out);

}  // namespace gatescope::cli
