// gatescope metrics: overlap and surface metrics of label files or folders (docs/cli.md).
#include <fmt/format.h>

#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/metrics/metrics_run.hpp"
#include "workbench/cli/command.hpp"
#include "workbench/cli/metric_options.hpp"
#include "workbench/cli/progress.hpp"

namespace gatescope::cli {

namespace {

struct MetricsOptions {
  std::string reference, prediction;
  MetricOptions metric;
  std::string json_out, csv_out;
  std::string nonfinite = "skip";
  bool quiet = false;
};

NonFinitePolicy policyFrom(const std::string& text) {
  if (text == "skip") return {};
  if (text == "diagonal" || text == "worst") return {NonFinitePolicy::Mode::Diagonal, 0.0};
  const auto values = parseNumberList(text, "--nonfinite");
  if (values.size() != 1) throw UsageError("--nonfinite takes skip, diagonal or one value in mm");
  return {NonFinitePolicy::Mode::Value, values[0]};
}

std::string cell(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{:.4f}", v);
}

void printTable(const MetricsReport& report) {
  const MetricConfig& config = report.config;
  std::vector<std::string> columns = {"dice",    "jaccard", "precision",
                                      "recall",  "hd_mm",   percentileKey(config.percentile),
                                      "assd_mm", "masd_mm"};
  for (double t : config.tolerances_mm) columns.push_back(toleranceKey(t));
  std::string header = fmt::format("{:<20} {:>6} {:<16}", "case", "label", "status");
  for (const auto& c : columns) header += fmt::format(" {:>10}", c);
  std::cout << header << "\n";
  for (const CaseMetrics& c : report.cases) {
    if (!c.ok) {
      std::cout << fmt::format("{:<20} {:>6} {:<16} {}\n", c.pair.id, "-", "error", c.error);
      continue;
    }
    for (const LabelMetrics& m : c.labels) {
      std::string row =
          fmt::format("{:<20} {:>6} {:<16}", c.pair.id, m.label, emptyStatusName(m.status));
      const auto named = namedValues(m, config);
      for (const auto& column : columns)
        for (const auto& v : named)
          if (v.key == column) row += fmt::format(" {:>10}", cell(v.value));
      std::cout << row << "\n";
    }
  }
}

// An output file must be writable before the work starts: a wrong --json path is bad usage.
void requireOutputFolder(const std::string& file, const char* option) {
  if (file.empty()) return;
  const std::filesystem::path folder = std::filesystem::path(file).parent_path();
  std::error_code ec;
  if (!folder.empty() && !std::filesystem::is_directory(folder, ec))
    throw UsageError(
        fmt::format("{} {}: the folder {} does not exist", option, file, folder.string()));
}

int runMetricsCommand(const MetricsOptions& options) {
  requireOutputFolder(options.json_out, "--json");
  requireOutputFolder(options.csv_out, "--csv");
  const MetricConfig config = metricConfigFrom(options.metric);
  const NonFinitePolicy nonfinite = policyFrom(options.nonfinite);
  const auto cases = pairCases(options.reference, options.prediction);
  Progress progress("metrics", cases.size(), options.quiet || cases.size() < 2);
  const MetricsReport report = runMetrics(
      cases, config, nonfinite,
      [&](size_t done, size_t, const CaseMetrics& last) { progress.step(done, last.pair.id); });
  progress.finish();

  printTable(report);
  if (!options.json_out.empty())
    writeFileAtomically(options.json_out, metricsReportJson(report).dump(2) + "\n");
  if (!options.csv_out.empty()) writeFileAtomically(options.csv_out, metricsReportCsv(report));

  int failed = 0;
  for (const CaseMetrics& c : report.cases)
    if (!c.ok) {
      ++failed;
      std::cerr << "gatescope: " << c.error << "\n";
    }
  if (failed && report.cases.size() > 1)  // one pair: its error line says it all
    std::cerr << fmt::format("gatescope: {} of {} case(s) failed (recorded in the report)\n",
                             failed, report.cases.size());
  return failed ? 1 : 0;
}

}  // namespace

void registerMetricsCommand(CLI::App& root, CommandAction& chosen) {
  auto o = std::make_shared<MetricsOptions>();
  CLI::App* cmd = root.add_subcommand(
      "metrics", "Overlap and surface-distance metrics of predictions against references");
  cmd->add_option("--reference", o->reference, "Reference label file, or a folder of them")
      ->required();
  cmd->add_option("--prediction", o->prediction,
                  "Prediction label file, or a folder (paired with the references by case id = "
                  "file name without .nii/.nii.gz/.png)")
      ->required();
  addMetricOptions(*cmd, o->metric);
  cmd->add_option("--json", o->json_out, "Write the report as JSON (spec: docs/metrics.md)");
  cmd->add_option("--csv", o->csv_out, "Write one row per case and label as CSV");
  cmd->add_option("--nonfinite", o->nonfinite,
                  "Summaries of infinite distances (one mask empty): skip (count them), diagonal "
                  "(substitute the image diagonal in mm) or a value in mm")
      ->capture_default_str();
  cmd->add_flag("--quiet", o->quiet, "No progress output");
  cmd->callback([o, &chosen] { chosen = [o] { return runMetricsCommand(*o); }; });
}

}  // namespace gatescope::cli
