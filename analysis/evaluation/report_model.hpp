#pragma once

// A checked, read-only evaluation report (docs/evaluation.md): one parser for every reader - the
// plots, the workbench and the CLI's summary - and one set of accessors with the same rules
// everywhere. The rule that matters most: a model's values in a case count only when that model
// ran successfully on that case ("status" "ok"), as the report's summary counts them.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace gatescope {

// A label of the report: its key ("1") and its name ("liver"; the key when the dataset names none).
struct ReportLabel {
  std::string key;
  std::string name;
};

class ReportModel {
 public:
  using Json = nlohmann::ordered_json;

  // Checks `report` as validateReport does (FormatError naming `source`) and keeps it.
  ReportModel(Json report, std::string source);
  // DIR/report.json, or a report file.
  [[nodiscard]] static ReportModel read(const std::filesystem::path& path);

  [[nodiscard]] const Json& json() const { return report_; }
  [[nodiscard]] const std::string& source() const { return source_; }

  // --- models ---
  struct Model {
    std::string key;  // "A", "B"
    std::string name, architecture, device;
    std::vector<std::string> gates;
  };
  [[nodiscard]] const std::vector<Model>& models() const { return models_; }  // A, then B
  [[nodiscard]] bool hasModel(const std::string& key) const;
  [[nodiscard]] std::string modelName(const std::string& key) const;  // the key when unnamed
  [[nodiscard]] std::vector<std::string> modelKeys() const;

  // --- labels ---
  [[nodiscard]] const std::map<int, std::string>& labelNames() const { return label_names_; }
  [[nodiscard]] std::string labelName(const std::string& key) const;  // the key when unnamed
  // The labels the metrics were asked for (settings.metrics.labels; empty when not recorded).
  [[nodiscard]] std::vector<int> measuredLabels() const;
  // measuredLabels, else the dataset's named labels above 0.
  [[nodiscard]] std::vector<int> metricLabels() const;
  // `requested` as a key ("1") or a name ("liver") of a label some case has values for;
  // UsageError naming the file and listing the labels it has.
  [[nodiscard]] ReportLabel resolveLabel(const std::string& requested) const;

  // --- cases ---
  [[nodiscard]] const Json& cases() const;  // the case records, in report order
  [[nodiscard]] size_t caseCount() const { return cases().size(); }
  [[nodiscard]] const Json* caseRecord(const std::string& id) const;  // nullptr when unknown
  // "ok", the case's error, or "A: <error>" for the first model that failed on it.
  [[nodiscard]] static std::string caseStatus(const Json& record);
  // A model's result in a case when it ran successfully on it, else nullptr.
  [[nodiscard]] static const Json* modelResult(const Json& record, const std::string& model);
  // {metric: value} of a model and label in a case; nullptr when missing or the model failed.
  [[nodiscard]] static const Json* labelMetrics(const Json& record, const std::string& model,
                                                const std::string& label);
  // A metric's value (NaN and infinities kept); nullopt when missing or the model failed.
  [[nodiscard]] static std::optional<double> metric(const Json& record, const std::string& model,
                                                    const std::string& label,
                                                    const std::string& metric);
  // {statistic: value} of a gate and label; nullptr when missing or the model failed. An
  // attribution map ("gradcam@conv3") is read from the model's attribution statistics.
  [[nodiscard]] static const Json* attentionStatistics(const Json& record, const std::string& model,
                                                       const std::string& gate,
                                                       const std::string& label);
  [[nodiscard]] static std::optional<double> attentionStatistic(const Json& record,
                                                                const std::string& model,
                                                                const std::string& gate,
                                                                const std::string& label,
                                                                const std::string& statistic);

  // --- what the report derived from the cases ---
  [[nodiscard]] const Json* summary(const std::string& model) const;  // nullptr when missing
  // {label: {metric: {mean_difference, ci95, wilcoxon_p, n, better}}}; nullptr without B.
  [[nodiscard]] const Json* comparison() const;
  [[nodiscard]] const Json* comparison(const std::string& label, const std::string& metric) const;
  // The paired comparison of a gate, or of an attribution map from attribution_comparison.
  [[nodiscard]] const Json* attentionComparison(const std::string& gate, const std::string& label,
                                                const std::string& statistic) const;
  // The Wilcoxon p of a comparison entry; nullopt when it has none or it is NaN.
  [[nodiscard]] static std::optional<double> pValue(const Json* comparison);

 private:
  Json report_;
  std::string source_;
  std::vector<Model> models_;
  std::map<int, std::string> label_names_;
};

}  // namespace gatescope
