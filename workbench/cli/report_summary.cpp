#include "workbench/cli/report_summary.hpp"

#include <fmt/format.h>

#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/report_model.hpp"

namespace gatescope::cli {

using Json = nlohmann::ordered_json;

namespace {

std::string number(const Json& value, const char* format = "{:.3f}") {
  const auto v = reportNumber(value);
  if (!v) return "-";
  return fmt::format(fmt::runtime(format), *v);
}

std::string labelName(const ReportModel& report, const std::string& label) {
  const std::string name = report.labelName(label);
  return name == label ? label : fmt::format("{} {}", label, name);
}

bool isLabel(const std::string& key) {
  return !key.empty() && std::isdigit(static_cast<unsigned char>(key[0]));
}

// The robust Hausdorff key of the report (hd95_mm, or hdP_mm for another percentile).
std::string hdKey(const Json& per_label) {
  for (const auto& [key, value] : per_label.items())
    if (key.starts_with("hd") && key != "hd_mm" && key.ends_with("_mm")) return key;
  return "hd95_mm";
}

}  // namespace

void printReportSummary(const ReportModel& report, std::ostream& out) {
  for (const ReportModel::Model& model : report.models()) {
    const Json* found = report.summary(model.key);
    const Json& summary = found ? *found : Json::object();
    const Json& description = report.json()["models"][model.key];
    out << fmt::format("model {}: {} ({}), {} case(s), {} failed\n", model.key,
                       description.value("name", ""), description.value("architecture", ""),
                       summary.value("n_cases", 0), summary.value("n_failed", 0));
    for (const auto& [label, metrics] : summary.items()) {
      if (!isLabel(label)) continue;
      const std::string hd = hdKey(metrics);
      const Json none = Json::object();
      const Json& dice = metrics.contains("dice") ? metrics["dice"] : none;
      const Json& distance = metrics.contains(hd) ? metrics[hd] : none;
      std::string line = fmt::format(
          "  label {:<16} Dice {} +- {} (n {})   {} {} mm", labelName(report, label),
          number(dice.value("mean", Json())), number(dice.value("std", Json())), dice.value("n", 0),
          hd.substr(0, hd.size() - 3), number(distance.value("mean", Json()), "{:.2f}"));
      if (distance.value("n_inf", 0) > 0)
        line +=
            fmt::format(" ({} case(s) with an empty mask: infinite)", distance.value("n_inf", 0));
      out << line << "\n";
    }
    for (const auto& [section, heading] :
         {std::pair{"attention", "attention mass inside each label (mean over cases):"},
          std::pair{"attribution",
                    "attribution mass inside each label (positive part; mean over cases):"}}) {
      if (!summary.contains(section)) continue;
      out << "  " << heading << "\n";
      for (const auto& [gate, per_label] : summary[section].items()) {
        std::string line = fmt::format("    {:<24}", gate);
        for (const auto& [label, stats] : per_label.items())
          if (stats.contains("mass_in_reference"))
            line += fmt::format(" {}: {}", labelName(report, label),
                                number(stats["mass_in_reference"]["mean"]));
        out << line << "\n";
      }
    }
  }
  const Json* comparison = report.comparison();
  if (!comparison) return;
  out << "A vs B (paired over cases where both succeeded; difference = A - B):\n";
  for (const auto& [label, metrics] : comparison->items()) {
    for (const auto& [key, c] : metrics.items()) {
      if (key != "dice" && !(key.starts_with("hd") && key != "hd_mm")) continue;
      out << fmt::format(
          "  label {:<16} {:<8} {:>+8.4f} [{}, {}]  Wilcoxon p {}  n {}  better: {}\n",
          labelName(report, label), key, reportNumber(c["mean_difference"]).value_or(0.0),
          number(c["ci95"][0], "{:+.4f}"), number(c["ci95"][1], "{:+.4f}"),
          number(c["wilcoxon_p"], "{:.4g}"), c.value("n", 0),
          c["better"].is_string() ? c["better"].get<std::string>() : "-");
    }
  }
}

}  // namespace gatescope::cli
