// Evaluation reports as compare, render and the workbench read them: validated, then summarised
// and written as CSV.
#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/io/json_file.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    nlohmann::ordered_json report =
        gatescope::parseOrderedJson(gatescope::fuzz::text(data, size), "report.json");
    gatescope::validateReport(report, "report.json");
    gatescope::summarizeReport(report);
    (void)gatescope::reportCsv(report);
  } catch (const gatescope::Error&) {
  }
  return 0;
}
