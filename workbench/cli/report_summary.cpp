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

// One paired comparison: mean difference A - B, its 95% interval, Wilcoxon p, n, the better model.
// `what` names the comparison (label and metric, or map and label).
std::string pairedLine(const std::string& what, const Json& c) {
  return fmt::format("  {} {:>+8.4f} [{}, {}]  Wilcoxon p {}  n {}  better: {}\n", what,
                     reportNumber(c["mean_difference"]).value_or(0.0),
                     number(c["ci95"][0], "{:+.4f}"), number(c["ci95"][1], "{:+.4f}"),
                     number(c["wilcoxon_p"], "{:.4g}"), c.value("n", 0),
                     c["better"].is_string() ? c["better"].get<std::string>() : "-");
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
    for (const auto& [section, heading] : {std::pair{"attention", "attention gates"},
                                           std::pair{"attribution", "attribution maps"}}) {
      if (!summary.contains(section)) continue;
      out << fmt::format("  {} (mean over cases):\n", heading);
      out << fmt::format("    {:<24} {:<18} {:>7} {:>8} {:>9} {:>9}\n", "", "label", "mass",
                         "dilated", "pointing", "contrast");
      for (const auto& [map, per_label] : summary[section].items())
        for (const auto& [label, stats] : per_label.items()) {
          const auto mean = [&](const char* key) {
            return stats.contains(key) ? number(stats[key].value("mean", Json())) : "-";
          };
          out << fmt::format("    {:<24} {:<18} {:>7} {:>8} {:>9} {:>9}\n", map,
                             labelName(report, label), mean("mass_in_reference"),
                             mean("mass_in_reference_dilated"), mean("pointing_game"),
                             mean("contrast"));
        }
    }
    if (description.contains("nnunet_check")) {
      const Json& check = description["nnunet_check"];
      out << fmt::format(
          "  nnU-Net's summary.json: {} case(s) compared, Dice and IoU differ from gatescope's by "
          "at most {}\n",
          check.value("cases_compared", 0),
          number(check.value("max_abs_difference", Json()), "{:.3g}"));
    }
  }
  const Json* comparison = report.comparison();
  if (!comparison) return;
  out << "A vs B (paired over cases where both succeeded; difference = A - B):\n";
  for (const auto& [label, metrics] : comparison->items()) {
    for (const auto& [key, c] : metrics.items()) {
      if (key != "dice" && !(key.starts_with("hd") && key != "hd_mm")) continue;
      out << pairedLine(fmt::format("label {:<16} {:<8}", labelName(report, label), key), c);
    }
  }
  const Json& maps = report.json().contains("attribution_comparison")
                         ? report.json()["attribution_comparison"]
                         : Json::object();
  if (maps.empty()) return;
  out << "attribution mass inside each label, A vs B (paired; difference = A - B):\n";
  for (const auto& [map, per_label] : maps.items())
    for (const auto& [label, stats] : per_label.items()) {
      if (!stats.contains("mass_in_reference")) continue;
      out << pairedLine(fmt::format("{:<24} {:<18}", map, labelName(report, label)),
                        stats["mass_in_reference"]);
    }
}

void printClassificationSummary(const Json& report, std::ostream& out) {
  for (const auto& [key, model] : report["models"].items()) {
    const Json& s = report["summary"].contains(key) ? report["summary"][key] : Json::object();
    out << fmt::format("model {}: {} ({}), {} image(s), {} failed\n", key, model.value("name", ""),
                       model.value("architecture", ""), s.value("n_cases", 0),
                       s.value("n_failed", 0));
    out << fmt::format(
        "  accuracy {}  balanced accuracy {}  macro F1 {}  kappa {}  macro ROC AUC {}  log loss "
        "{}\n",
        number(s.value("accuracy", Json())), number(s.value("balanced_accuracy", Json())),
        number(s.value("macro_f1", Json())), number(s.value("cohen_kappa", Json())),
        number(s.value("macro_roc_auc", Json())), number(s.value("log_loss", Json())));
    for (const auto& [field, title] :
         {std::pair{"attention", "attention gates"},
          std::pair{"attribution", "attribution maps of the true class"}}) {
      if (!s.contains(field)) continue;
      out << "  " << title << " against the images' masks or boxes (mean over images):\n";
      out << fmt::format("    {:<24} {:>7} {:>8} {:>9} {:>9}\n", "", "mass", "dilated", "pointing",
                         "contrast");
      for (const auto& [gate, stats] : s[field].items()) {
        const auto mean = [&](const char* name) {
          return stats.contains(name) ? number(stats[name]["mean"]) : std::string("-");
        };
        out << fmt::format("    {:<24} {:>7} {:>8} {:>9} {:>9}\n", gate, mean("mass_in_reference"),
                           mean("mass_in_reference_dilated"), mean("pointing_game"),
                           mean("contrast"));
      }
    }
  }
  if (!report.contains("comparison") || report["comparison"].value("n", 0) == 0) return;
  const Json& c = report["comparison"];
  out << fmt::format("A vs B ({} image(s) both classified; difference = A - B):\n",
                     c.value("n", 0));
  const Json& m = c["mcnemar"];
  out << fmt::format("  McNemar: only A right {}, only B right {}, p {} ({})\n",
                     m.value("only_a_correct", 0), m.value("only_b_correct", 0),
                     number(m["p"], "{:.4g}"),
                     m.value("exact", false) ? "exact binomial" : "chi-square");
  for (const char* name : {"accuracy", "macro_f1"})
    out << fmt::format("  {:<9} {:>+8.4f} [{}, {}]  better: {}\n", name,
                       reportNumber(c[name]["difference"]).value_or(0.0),
                       number(c[name]["ci95"][0], "{:+.4f}"), number(c[name]["ci95"][1], "{:+.4f}"),
                       c[name].value("better", "-"));
}

}  // namespace gatescope::cli
