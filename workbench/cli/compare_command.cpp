// gatescope compare: the paired comparison of two saved evaluation reports (docs/cli.md).
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/report_comparison.hpp"
#include "analysis/io/file_util.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/report_summary.hpp"

namespace gatescope::cli {

namespace fs = std::filesystem;

namespace {

struct CompareOptions {
  std::string report_a, report_b, out;
  bool quiet = false;
};

int runCompare(const CompareOptions& o) {
  const nlohmann::ordered_json report =
      compareReports(parseReportModelRef(o.report_a), parseReportModelRef(o.report_b));
  std::error_code ec;
  fs::create_directories(o.out, ec);
  if (ec || !fs::is_directory(o.out)) throw IoError(o.out + ": cannot create the output folder");
  writeFileAtomically(fs::path(o.out) / "report.json", report.dump(2) + "\n");
  const bool classification = report.value("task", "") == "classification";
  writeFileAtomically(fs::path(o.out) / "cases.csv",
                      classification ? classificationCsv(report) : reportCsv(report));
  if (!o.quiet && classification) printClassificationSummary(report, std::cout);
  if (!o.quiet && !classification)
    printReportSummary(ReportModel(report, (fs::path(o.out) / "report.json").string()), std::cout);
  std::cout << fmt::format("wrote {} and {}\n", (fs::path(o.out) / "report.json").string(),
                           (fs::path(o.out) / "cases.csv").string());
  return 0;
}

}  // namespace

void registerCompareCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = root.add_subcommand(
      "compare",
      "Paired comparison of two saved evaluation reports (cases paired by id): model A of REPORT_A "
      "against model A of REPORT_B; append :B to a report to take its model B");
  cmd->add_option("REPORT_A", o->report_a, "report.json of the first model (or report.json:B)")
      ->required();
  cmd->add_option("REPORT_B", o->report_b, "report.json of the second model (or report.json:B)")
      ->required();
  cmd->add_option("--out", o->out, "Output folder: report.json and cases.csv with both models")
      ->required();
  cmd->add_flag("--quiet", o->quiet, "No summary output");
  cmd->callback([o, &chosen] { chosen = [o] { return runCompare(*o); }; });
}

}  // namespace gatescope::cli
