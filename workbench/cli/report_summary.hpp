#pragma once

#include <nlohmann/json.hpp>
#include <ostream>

#include "analysis/evaluation/report_model.hpp"

namespace gatescope::cli {

// A short text summary of an evaluation report: per model and label mean Dice and HD95, failed
// cases, the paired A-B comparison, and per gate the attention mass inside each label.
void printReportSummary(const ReportModel& report, std::ostream& out);

}  // namespace gatescope::cli
