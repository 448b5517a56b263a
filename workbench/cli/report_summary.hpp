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

}  // namespace gatescope::cli
