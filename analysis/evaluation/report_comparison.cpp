#include "analysis/evaluation/report_comparison.hpp"

#include <fmt/format.h>

#include <map>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/evaluator.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

bool isClassificationReport(const Json& report) {
  return report.is_object() && report.value("task", "") == "classification";
}

Json readReport(const ReportModelRef& ref) {
  Json report = readOrderedJsonFile(ref.report, "evaluation report");
  if (isClassificationReport(report))
    validateClassificationReport(report, ref.report.string());
  else
    validateReport(report, ref.report.string());
  if (!report["models"].contains(ref.model)) {
    std::string known;
    for (const auto& [key, value] : report["models"].items())
      known += (known.empty() ? "" : ", ") + key;
    throw UsageError(fmt::format("{}: the report has no model {} (it has {})", ref.report.string(),
                                 ref.model, known));
  }
  return report;
}

// Two classification reports are comparable when their models predict the same classes, named the
// same where both datasets name them.
void checkSameClasses(const Json& ra, const Json& rb, const ReportModelRef& a,
                      const ReportModelRef& b) {
  const int ca = ra["models"][a.model]["classes"].get<int>(),
            cb = rb["models"][b.model]["classes"].get<int>();
  if (ca != cb)
    throw UsageError(fmt::format("{}: model {} predicts {} classes, {}: model {} predicts {}",
                                 a.report.string(), a.model, ca, b.report.string(), b.model, cb));
  const Json none = Json::array();
  const Json& na = ra.contains("dataset") ? ra["dataset"].value("classes", none) : none;
  const Json& nb = rb.contains("dataset") ? rb["dataset"].value("classes", none) : none;
  if (!na.empty() && !nb.empty() && na != nb)
    throw UsageError(fmt::format("{} and {} name their classes differently ({} vs {})",
                                 a.report.string(), b.report.string(), na.dump(), nb.dump()));
}

Json metricSettingsOf(const Json& report) {
  if (report.contains("settings") && report["settings"].contains("metrics"))
    return report["settings"]["metrics"];
  return {{"preset", report.value("preset", "")}};
}

}  // namespace

ReportModelRef parseReportModelRef(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon != std::string::npos && colon + 2 == text.size() &&
      (text.back() == 'A' || text.back() == 'B'))
    return {text.substr(0, colon), std::string(1, text.back())};
  return {text, "A"};
}

Json compareReports(const ReportModelRef& a, const ReportModelRef& b, const PairedOptions& paired) {
  const Json ra = readReport(a), rb = readReport(b);
  const bool classification = isClassificationReport(ra);
  if (classification != isClassificationReport(rb))
    throw UsageError(
        fmt::format("{} is a {} report and {} a {} one: nothing to pair", a.report.string(),
                    classification ? "classification" : "segmentation", b.report.string(),
                    classification ? "segmentation" : "classification"));
  if (classification) checkSameClasses(ra, rb, a, b);
  const Json sa = metricSettingsOf(ra), sb = metricSettingsOf(rb);
  if (sa != sb)
    throw UsageError(fmt::format(
        "{} and {} were measured with different metric settings ({} vs {}): evaluate both "
        "with the same --preset, labels, percentile and tolerances",
        a.report.string(), b.report.string(), sa.dump(), sb.dump()));
  std::map<std::string, const Json*> cases_b;
  for (const auto& record : rb["cases"]) cases_b[record.value("id", "")] = &record;

  Json report = reportPreamble();
  if (classification) report["task"] = "classification";
  report["preset"] = ra.value("preset", "");
  const std::string device_a = ra.value("device", ""), device_b = rb.value("device", "");
  report["device"] = device_a == device_b ? device_a : "A: " + device_a + "; B: " + device_b;
  const std::string torch_a = ra.value("torch_version", ""),
                    torch_b = rb.value("torch_version", "");
  report["torch_version"] = torch_a == torch_b ? torch_a : "A: " + torch_a + "; B: " + torch_b;
  Json model_a = ra["models"][a.model], model_b = rb["models"][b.model];
  model_a["report"] = fs::absolute(a.report).string();
  model_b["report"] = fs::absolute(b.report).string();
  report["models"] = {{"A", model_a}, {"B", model_b}};
  Json dataset = ra.value("dataset", Json::object());
  if (rb.contains("dataset") && rb["dataset"].value("path", "") != dataset.value("path", ""))
    dataset["path_b"] = rb["dataset"].value("path", "");
  report["dataset"] = dataset;
  if (ra.contains("settings")) report["settings"] = ra["settings"];
  // Each report's attribution maps, under the key its model now has.
  if (report.contains("settings")) report["settings"].erase("attribution");
  for (const auto& [side, key] : {std::pair{&a, "A"}, std::pair{&b, "B"}}) {
    const Json& r = side == &a ? ra : rb;
    if (!r.contains("settings") || !r["settings"].contains("attribution")) continue;
    Json& attribution = report["settings"]["attribution"];
    if (attribution.is_null()) {
      attribution = r["settings"]["attribution"];
      attribution["maps"] = Json::array();
    }
    for (const auto& map : r["settings"]["attribution"].value("maps", Json::array()))
      if (map.value("model", "") == side->model) {
        Json renamed = map;
        renamed["model"] = key;
        attribution["maps"].push_back(std::move(renamed));
      }
  }

  const auto missing = [](const fs::path& file) {
    return Json{{"status", "error"}, {"error", "case not in " + file.string()}};
  };
  Json cases = Json::array();
  size_t paired_cases = 0;
  std::map<std::string, bool> seen;
  const auto combine = [&](const std::string& id, const Json* in_a, const Json* in_b) {
    Json record = {{"id", id}, {"status", "ok"}, {"models", Json::object()}};
    const Json* source = in_a ? in_a : in_b;
    for (const char* key : {"split", "images", "reference", "image", "true_class", "localisation"})
      if (source->contains(key)) record[key] = (*source)[key];
    const auto entry = [&](const Json* r, const std::string& model, const fs::path& file) -> Json {
      if (!r) return missing(file);
      if (r->contains("models") && (*r)["models"].contains(model)) return (*r)["models"][model];
      return {{"status", "error"}, {"error", r->value("error", "case failed before inference")}};
    };
    record["models"]["A"] = entry(in_a, a.model, a.report);
    record["models"]["B"] = entry(in_b, b.model, b.report);
    for (const char* key : {"A", "B"})
      if (record["models"][key].value("status", "ok") != "ok") {
        record["status"] = "error";
        record["error"] =
            fmt::format("model {}: {}", key, record["models"][key].value("error", ""));
        break;
      }
    if (in_a && in_b) ++paired_cases;
    cases.push_back(std::move(record));
  };
  for (const auto& record : ra["cases"]) {
    const std::string id = record.value("id", "");
    seen[id] = true;
    const auto other = cases_b.find(id);
    combine(id, &record, other == cases_b.end() ? nullptr : other->second);
  }
  for (const auto& record : rb["cases"])
    if (!seen.count(record.value("id", ""))) combine(record.value("id", ""), nullptr, &record);
  if (paired_cases == 0)
    throw UsageError(fmt::format("{} and {} share no case id: nothing to compare",
                                 a.report.string(), b.report.string()));
  report["dataset"]["cases"] = cases.size();
  report["cases"] = std::move(cases);
  if (classification)
    summarizeClassificationReport(report, paired);
  else
    summarizeReport(report, paired);
  return report;
}

}  // namespace gatescope
