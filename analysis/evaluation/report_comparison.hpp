#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/stats/paired.hpp"

namespace gatescope {

// One model of a saved evaluation report: "report.json" means its model A, "report.json:B" its B.
struct ReportModelRef {
  std::filesystem::path report;
  std::string model = "A";
};
[[nodiscard]] ReportModelRef parseReportModelRef(const std::string& text);

// gatescope compare: a report with model A from `a` and model B from `b`, cases paired by id, then
// summarised and compared as evaluate does. UsageError when the reports used different metric
// settings (their numbers would not be comparable) or share no case; FormatError naming the file
// for a file that is not a gatescope report. A case only one report has stays, recorded as a
// failure of the other model.
[[nodiscard]] nlohmann::ordered_json compareReports(const ReportModelRef& a,
                                                    const ReportModelRef& b,
                                                    const PairedOptions& paired = {});

}  // namespace gatescope
