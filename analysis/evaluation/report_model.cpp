#include "analysis/evaluation/report_model.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/saved_case.hpp"

namespace gatescope {

namespace {

using Json = nlohmann::ordered_json;

const Json& emptyObject() {
  static const Json empty = Json::object();
  return empty;
}

// The member `key` of an object; an empty object for anything missing (the report was validated:
// what is there has the right kind).
const Json& child(const Json& parent, const std::string& key) {
  if (!parent.is_object()) return emptyObject();
  const auto it = parent.find(key);
  return it == parent.end() ? emptyObject() : *it;
}

const Json* childOrNull(const Json& parent, const std::string& key) {
  if (!parent.is_object()) return nullptr;
  const auto it = parent.find(key);
  return it == parent.end() ? nullptr : &*it;
}

std::string text(const Json& value, const std::string& fallback) {
  return value.is_string() ? value.get<std::string>() : fallback;
}

// Label keys sort by value ("2" before "10").
bool labelBefore(const std::string& a, const std::string& b) {
  const auto digits = [](const std::string& s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
  };
  if (digits(a) && digits(b) && a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

void addUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

}  // namespace

ReportModel::ReportModel(Json report, std::string source)
    : report_(std::move(report)), source_(std::move(source)) {
  validateReport(report_, source_);
  for (const char* key : {"A", "B"}) {
    const Json* model = childOrNull(report_["models"], key);
    if (!model) continue;
    Model m{key,
            text(child(*model, "name"), key),
            text(child(*model, "architecture"), "?"),
            text(child(*model, "device"), "?"),
            {}};
    for (const auto& gate : child(*model, "gates"))
      if (gate.is_string()) m.gates.push_back(gate.get<std::string>());
    models_.push_back(std::move(m));
  }
  label_names_ = reportLabelNames(report_);
}

ReportModel ReportModel::read(const std::filesystem::path& path) {
  const std::filesystem::path file =
      std::filesystem::is_directory(path) ? path / "report.json" : path;
  return ReportModel(readEvaluationReport(path), file.string());
}

// --- models ---

bool ReportModel::hasModel(const std::string& key) const {
  return std::any_of(models_.begin(), models_.end(), [&](const Model& m) { return m.key == key; });
}

std::string ReportModel::modelName(const std::string& key) const {
  for (const Model& m : models_)
    if (m.key == key) return m.name;
  return key;
}

std::vector<std::string> ReportModel::modelKeys() const {
  std::vector<std::string> keys;
  for (const Model& m : models_) keys.push_back(m.key);
  return keys;
}

// --- labels ---

std::string ReportModel::labelName(const std::string& key) const {
  return text(child(child(report_["dataset"], "labels"), key), key);
}

std::vector<int> ReportModel::measuredLabels() const {
  std::vector<int> labels;
  const Json& metrics = child(child(report_, "settings"), "metrics");
  if (const Json* asked = childOrNull(metrics, "labels"); asked && asked->is_array())
    for (const auto& label : *asked)
      if (label.is_number_integer()) labels.push_back(label.get<int>());
  return labels;
}

std::vector<int> ReportModel::metricLabels() const {
  std::vector<int> labels = measuredLabels();
  if (!labels.empty()) return labels;
  for (const auto& [value, name] : label_names_)
    if (value > 0) labels.push_back(value);
  return labels;
}

ReportLabel ReportModel::resolveLabel(const std::string& requested) const {
  std::vector<std::string> keys;
  for (const auto& record : cases())
    for (const auto& [model, entry] : child(record, "models").items()) {
      for (const auto& [label, values] : child(entry, "labels").items()) addUnique(keys, label);
      for (const auto& [gate, labels] : child(entry, "attention").items())
        for (const auto& [label, values] : labels.items()) addUnique(keys, label);
    }
  std::sort(keys.begin(), keys.end(), labelBefore);
  for (const auto& key : keys)
    if (key == requested || labelName(key) == requested) return {key, labelName(key)};
  std::vector<std::string> available;
  for (const auto& key : keys)
    available.push_back(labelName(key) == key ? key : key + " (" + labelName(key) + ")");
  throw UsageError(
      fmt::format("{}: no label '{}' in the report (available: {})", source_, requested,
                  available.empty() ? "none" : fmt::format("{}", fmt::join(available, ", "))));
}

// --- cases ---

const Json& ReportModel::cases() const {
  return report_["cases"];
}

const Json* ReportModel::caseRecord(const std::string& id) const {
  for (const auto& record : cases())
    if (text(child(record, "id"), "") == id) return &record;
  return nullptr;
}

std::string ReportModel::caseStatus(const Json& record) {
  if (text(child(record, "status"), "ok") != "ok") return text(child(record, "error"), "error");
  for (const char* key : {"A", "B"}) {
    const Json& result = child(child(record, "models"), key);
    if (text(child(result, "status"), "ok") != "ok")
      return fmt::format("{}: {}", key, text(child(result, "error"), "error"));
  }
  return "ok";
}

const Json* ReportModel::modelResult(const Json& record, const std::string& model) {
  const Json* result = childOrNull(child(record, "models"), model);
  if (!result || text(child(*result, "status"), "ok") != "ok") return nullptr;
  return result;
}

const Json* ReportModel::labelMetrics(const Json& record, const std::string& model,
                                      const std::string& label) {
  const Json* result = modelResult(record, model);
  return result ? childOrNull(child(*result, "labels"), label) : nullptr;
}

std::optional<double> ReportModel::metric(const Json& record, const std::string& model,
                                          const std::string& label, const std::string& metric) {
  const Json* values = labelMetrics(record, model, label);
  const Json* value = values ? childOrNull(*values, metric) : nullptr;
  return value ? reportNumber(*value) : std::nullopt;
}

const Json* ReportModel::attentionStatistics(const Json& record, const std::string& model,
                                             const std::string& gate, const std::string& label) {
  const Json* result = modelResult(record, model);
  // Attribution maps are named method@layer (docs/attribution.md); gates never hold an '@'.
  const char* section = gate.find('@') == std::string::npos ? "attention" : "attribution";
  return result ? childOrNull(child(child(*result, section), gate), label) : nullptr;
}

std::optional<double> ReportModel::attentionStatistic(const Json& record, const std::string& model,
                                                      const std::string& gate,
                                                      const std::string& label,
                                                      const std::string& statistic) {
  const Json* values = attentionStatistics(record, model, gate, label);
  const Json* value = values ? childOrNull(*values, statistic) : nullptr;
  return value ? reportNumber(*value) : std::nullopt;
}

// --- derived ---

const Json* ReportModel::summary(const std::string& model) const {
  return childOrNull(child(report_, "summary"), model);
}

const Json* ReportModel::comparison() const {
  return childOrNull(report_, "comparison");
}

const Json* ReportModel::comparison(const std::string& label, const std::string& metric) const {
  return childOrNull(child(child(report_, "comparison"), label), metric);
}

const Json* ReportModel::attentionComparison(const std::string& gate, const std::string& label,
                                             const std::string& statistic) const {
  const char* section =
      gate.find('@') == std::string::npos ? "attention_comparison" : "attribution_comparison";
  return childOrNull(child(child(child(report_, section), gate), label), statistic);
}

std::optional<double> ReportModel::pValue(const Json* comparison) {
  if (!comparison) return std::nullopt;
  const Json* p = childOrNull(*comparison, "wilcoxon_p");
  const auto value = p ? reportNumber(*p) : std::nullopt;
  return value && !std::isnan(*value) ? value : std::nullopt;
}

}  // namespace gatescope
