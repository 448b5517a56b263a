#include "analysis/evaluation/report_series.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/stats/summary.hpp"

namespace gatescope {

namespace {

using Json = nlohmann::ordered_json;

std::string joined(const std::vector<std::string>& items) {
  return items.empty() ? "none" : fmt::format("{}", fmt::join(items, ", "));
}

void addUnique(std::vector<std::string>& list, const std::string& item) {
  if (std::find(list.begin(), list.end(), item) == list.end()) list.push_back(item);
}

std::optional<double> finite(std::optional<double> value) {
  return value && std::isfinite(*value) ? value : std::nullopt;
}

std::string caseId(const Json& record) {
  return record.value("id", "");
}

// A model's part of a case record, failed or not (an empty object when absent).
const Json& modelPart(const Json& record, const std::string& model, const char* part) {
  static const Json empty = Json::object();
  const auto models = record.find("models");
  if (models == record.end() || !models->contains(model)) return empty;
  const Json& result = (*models)[model];
  const auto it = result.find(part);
  return it == result.end() ? empty : *it;
}

}  // namespace

PairedMetricData pairedMetricData(const ReportModel& report, const std::string& label,
                                  const std::string& metric) {
  for (const char* needed : {"A", "B"})
    if (!report.hasModel(needed))
      throw UsageError(report.source() + ": a paired plot needs models A and B, the report has " +
                       joined(report.modelKeys()));
  PairedMetricData data;
  data.label = report.resolveLabel(label);
  std::vector<std::string> metrics;
  for (const auto& record : report.cases())
    for (const char* model : {"A", "B"}) {
      // The metrics any case lists for the label, failed models included (a name is a name).
      const Json& values = modelPart(record, model, "labels");
      if (values.contains(data.label.key))
        for (const auto& [key, value] : values[data.label.key].items())
          if (reportNumber(value)) addUnique(metrics, key);
    }
  if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end())
    throw UsageError(report.source() + ": no metric '" + metric + "' for label " + data.label.key +
                     " (available: " + joined(metrics) + ")");
  data.metric = metric;
  data.model_a_name = report.modelName("A");
  data.model_b_name = report.modelName("B");
  data.higher_is_better = higherIsBetter(metric);
  for (const auto& record : report.cases()) {
    ++data.n_cases;
    const auto a = finite(ReportModel::metric(record, "A", data.label.key, metric));
    const auto b = finite(ReportModel::metric(record, "B", data.label.key, metric));
    if (!a || !b) {
      ++data.n_left_out;
      continue;
    }
    data.case_ids.push_back(caseId(record));
    data.a.push_back(*a);
    data.b.push_back(*b);
  }
  data.p_value = ReportModel::pValue(report.comparison(data.label.key, metric));
  return data;
}

BlandAltmanData blandAltmanData(const ReportModel& report, const std::string& label) {
  BlandAltmanData data;
  data.label = report.resolveLabel(label);
  for (const auto& model : report.models()) {
    BlandAltmanSeries series;
    series.model = model.key;
    series.model_name = model.name;
    for (const auto& record : report.cases()) {
      const auto reference =
          finite(ReportModel::metric(record, model.key, data.label.key, "reference_volume_mm3"));
      const auto prediction =
          finite(ReportModel::metric(record, model.key, data.label.key, "prediction_volume_mm3"));
      if (!reference || !prediction) {
        ++series.n_left_out;
        continue;
      }
      series.case_ids.push_back(caseId(record));
      series.mean_ml.push_back((*reference + *prediction) / 2000.0);
      series.difference_ml.push_back((*prediction - *reference) / 1000.0);
    }
    const Summary s = summarize(series.difference_ml);
    if (s.n >= 1) series.bias_ml = s.mean;
    if (s.n >= 2) series.sd_ml = s.std;
    data.models.push_back(std::move(series));
  }
  data.n_cases = static_cast<int64_t>(report.caseCount());
  return data;
}

GateStatisticsData gateStatisticsData(const ReportModel& report, const std::string& label,
                                      const std::string& statistic,
                                      const std::vector<std::string>& gates) {
  GateStatisticsData data;
  data.label = report.resolveLabel(label);
  data.statistic = statistic;
  data.higher_is_better = higherIsBetter(statistic);
  data.n_cases = static_cast<int64_t>(report.caseCount());
  std::vector<std::string> report_gates, statistics;
  for (const auto& model : report.models())
    for (const auto& record : report.cases()) {
      for (const char* section : {"attention", "attribution"})  // gates, then attribution maps
        for (const auto& [gate, labels] : modelPart(record, model.key, section).items()) {
          addUnique(report_gates, gate);
          addUnique(data.models, model.key);
          if (labels.contains(data.label.key))
            for (const auto& [key, value] : labels[data.label.key].items())
              if (reportNumber(value)) addUnique(statistics, key);
        }
    }
  if (report_gates.empty())
    throw UsageError(
        report.source() +
        ": the report has no attention statistics (no model with gates, no attribution maps)");
  if (std::find(statistics.begin(), statistics.end(), statistic) == statistics.end())
    throw UsageError(report.source() + ": no attention statistic '" + statistic + "' for label " +
                     data.label.key + " (available: " + joined(statistics) + ")");
  for (const auto& gate : gates)
    if (std::find(report_gates.begin(), report_gates.end(), gate) == report_gates.end())
      throw UsageError(report.source() + ": no gate '" + gate +
                       "' in the report (available: " + joined(report_gates) + ")");
  data.gates = gates.empty() ? report_gates : gates;
  std::sort(data.models.begin(), data.models.end());
  for (const auto& gate : data.gates) {
    for (const auto& model : data.models) {
      GateStatisticSeries series{gate, model, report.modelName(model), {}, {}, 0};
      for (const auto& record : report.cases()) {
        const auto value =
            finite(ReportModel::attentionStatistic(record, model, gate, data.label.key, statistic));
        if (!value) {
          ++series.n_left_out;
          continue;
        }
        series.case_ids.push_back(caseId(record));
        series.values.push_back(*value);
      }
      data.series.push_back(std::move(series));
    }
    data.p_values.push_back(
        ReportModel::pValue(report.attentionComparison(gate, data.label.key, statistic)));
  }
  return data;
}

}  // namespace gatescope
