#include "analysis/evaluation/evaluation_report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "analysis/core/error.hpp"
#include "analysis/core/json_number.hpp"
#include "analysis/io/json_file.hpp"
#include "analysis/stats/summary.hpp"

namespace gatescope {

using Json = nlohmann::ordered_json;

namespace {

// Label keys ("1", "10") in numeric order, other keys after them in text order.
bool keyBefore(const std::string& a, const std::string& b) {
  const bool na = !a.empty() && std::all_of(a.begin(), a.end(), ::isdigit);
  const bool nb = !b.empty() && std::all_of(b.begin(), b.end(), ::isdigit);
  if (na != nb) return na;
  if (na && a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

std::vector<std::string> modelKeys(const Json& report) {
  std::vector<std::string> keys;
  if (report.contains("models"))
    for (const auto& [key, value] : report["models"].items()) keys.push_back(key);
  return keys;
}

bool modelOk(const Json& record, const std::string& model) {
  return record.contains("models") && record["models"].contains(model) &&
         record["models"][model].value("status", "ok") == "ok";
}

// table[group][item][key]: one value per case, aligned by case index; `present` says which cases
// have one.
struct Column {
  std::vector<double> values;
  std::vector<bool> present;
};
using Table = std::map<std::string,
                       std::map<std::string, std::map<std::string, Column>, decltype(&keyBefore)>,
                       decltype(&keyBefore)>;

Table makeTable() {
  return Table(&keyBefore);
}

// Collects, for one model, the numbers under record[models][model][section][group][item][key]
// ("labels": group = label, one level less) for every case, aligned by case index.
void collect(const Json& cases, const std::string& model, const std::string& section,
             Table& table) {
  const size_t n = cases.size();
  for (size_t c = 0; c < n; ++c) {
    if (!modelOk(cases[c], model)) continue;
    const Json& entry = cases[c]["models"][model];
    if (!entry.contains(section)) continue;
    for (const auto& group_entry : entry[section].items()) {
      const std::string group =
          group_entry.key();  // named: lambdas cannot capture structured bindings in clang 14
      const Json& inner = group_entry.value();
      const auto add = [&](const std::string& item, const Json& stats) {
        for (const auto& [key, value] : stats.items()) {
          const auto number = reportNumber(value);
          if (!number) continue;
          auto& groups = table.try_emplace(group, &keyBefore).first->second;
          Column& column = groups[item][key];
          column.values.resize(n, std::numeric_limits<double>::quiet_NaN());
          column.present.resize(n, false);
          column.values[c] = *number;
          column.present[c] = true;
        }
      };
      if (section == "labels") {
        add("", inner);
      } else {
        for (const auto& [item, stats] : inner.items()) add(item, stats);
      }
    }
  }
}

std::vector<double> presentValues(const Column& column) {
  std::vector<double> v;
  for (size_t i = 0; i < column.values.size(); ++i)
    if (column.present[i]) v.push_back(column.values[i]);
  return v;
}

Json summaries(const Table& table, bool nested) {
  Json out = Json::object();
  for (const auto& [group, items] : table)
    for (const auto& [item, keys] : items) {
      Json& target = nested ? out[group][item] : out[group];
      for (const auto& [key, column] : keys) target[key] = toJson(summarize(presentValues(column)));
    }
  return out;
}

Json comparisons(const Table& a, const Table& b, bool nested, const PairedOptions& base) {
  Json out = Json::object();
  for (const auto& [group, items] : a) {
    const auto other_group = b.find(group);
    if (other_group == b.end()) continue;
    for (const auto& [item, keys] : items) {
      const auto other_item = other_group->second.find(item);
      if (other_item == other_group->second.end()) continue;
      for (const auto& [key, column] : keys) {
        const auto other = other_item->second.find(key);
        if (other == other_item->second.end()) continue;
        std::vector<double> va, vb;
        const size_t n = std::min(column.values.size(), other->second.values.size());
        for (size_t i = 0; i < n; ++i)
          if (column.present[i] && other->second.present[i]) {
            va.push_back(column.values[i]);
            vb.push_back(other->second.values[i]);
          }
        if (va.empty()) continue;
        PairedOptions options = base;
        const auto direction = higherIsBetter(key);
        options.higher_is_better = direction.value_or(true);
        const PairedComparison compared = comparePaired(va, vb, options);
        Json result = toJson(compared);
        if (!direction || compared.n == 0) result["better"] = nullptr;
        (nested ? out[group][item] : out[group])[key] = std::move(result);
      }
    }
  }
  return out;
}

std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) quoted += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return quoted + "\"";
}

std::string csvValue(const Json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return csvField(value.get<std::string>());
  if (value.is_number_integer()) return std::to_string(value.get<int64_t>());
  if (value.is_number()) {
    std::ostringstream s;
    s.precision(10);
    s << value.get<double>();
    return s.str();
  }
  return csvField(value.dump());
}

}  // namespace

std::optional<bool> higherIsBetter(const std::string& key) {
  static const std::set<std::string> higher = {
      "dice", "jaccard", "precision", "recall", "specificity", "volume_similarity", "tp", "tn",
      // attention statistics: weight on the reference region
      "mass_in_reference", "mass_in_reference_dilated", "pointing_game", "mean_inside", "contrast",
      "coverage_reference", "precision_above_threshold"};
  static const std::set<std::string> lower = {"fp",
                                              "fn",
                                              "assd_mm",
                                              "masd_mm",
                                              "asd_prediction_to_reference_mm",
                                              "asd_reference_to_prediction_mm",
                                              "mean_outside",
                                              "entropy",
                                              "entropy_normalized"};
  if (higher.count(key) || key.starts_with("nsd_")) return true;
  if (lower.count(key) || (key.starts_with("hd") && key.ends_with("_mm"))) return false;
  return std::nullopt;
}

std::optional<double> reportNumber(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

void summarizeReport(Json& report, const PairedOptions& paired) {
  // ordered_json keeps its members in a vector: no reference into `report` survives an insertion,
  // so everything is computed before the report changes.
  const Json& cases = report["cases"];
  const std::vector<std::string> models = modelKeys(report);
  // The sections measured like gates: gates' attention and attribution maps' statistics.
  const std::vector<std::string> map_sections = {"attention", "attribution"};
  Json summary = Json::object(), comparison;
  std::map<std::string, Json> map_comparisons;
  std::map<std::string, Table> labels;
  std::map<std::string, std::map<std::string, Table>> maps;  // section -> model -> table
  for (const auto& model : models) {
    int64_t failed = 0;
    for (const auto& record : cases) failed += modelOk(record, model) ? 0 : 1;
    labels.emplace(model, makeTable());
    collect(cases, model, "labels", labels.at(model));
    Json s = {{"n_cases", cases.size()}, {"n_failed", failed}};
    const Json per_label = summaries(labels.at(model), false);
    for (const auto& [label, value] : per_label.items()) s[label] = value;
    for (const auto& section : map_sections) {
      Table& table = maps[section].emplace(model, makeTable()).first->second;
      collect(cases, model, section, table);
      const Json measured = summaries(table, true);
      if (!measured.empty()) s[section] = measured;
    }
    summary[model] = std::move(s);
  }
  if (labels.count("A") && labels.count("B")) {
    comparison = comparisons(labels.at("A"), labels.at("B"), false, paired);
    for (const auto& section : map_sections)
      map_comparisons[section] =
          comparisons(maps[section].at("A"), maps[section].at("B"), true, paired);
  }
  report.erase("summary");
  report.erase("comparison");
  for (const auto& section : map_sections) report.erase(section + "_comparison");
  report["summary"] = std::move(summary);
  if (!comparison.is_null()) report["comparison"] = std::move(comparison);
  for (auto& [section, compared] : map_comparisons)
    if (!compared.is_null() && !compared.empty())
      report[section + "_comparison"] = std::move(compared);
}

std::string reportCsv(const Json& report) {
  // Columns: every metric key, then every gate:statistic and map:statistic (attribution maps are
  // named method@layer) that occurs, in first-seen order.
  struct MapColumn {
    std::string section, item, key;
  };
  std::vector<std::string> metric_keys;
  std::vector<MapColumn> map_columns;
  const auto remember = [](std::vector<std::string>& list, const std::string& key) {
    if (std::find(list.begin(), list.end(), key) == list.end()) list.push_back(key);
  };
  const std::vector<std::string> models = modelKeys(report);
  for (const auto& record : report["cases"])
    for (const auto& model : models) {
      if (!modelOk(record, model)) continue;
      const Json& entry = record["models"][model];
      if (entry.contains("labels"))
        for (const auto& [label, values] : entry["labels"].items())
          for (const auto& [key, value] : values.items())
            if (key != "status" && key != "error") remember(metric_keys, key);
      for (const char* section : {"attention", "attribution"}) {
        if (!entry.contains(section)) continue;
        for (const auto& [item, per_label] : entry[section].items())
          for (const auto& [label, stats] : per_label.items())
            for (const auto& [key, value] : stats.items()) {
              if (key == "status") continue;
              const MapColumn column{section, item, key};  // lambdas cannot capture bindings
              const auto same = [&](const MapColumn& c) {
                return c.section == column.section && c.item == column.item && c.key == column.key;
              };
              if (std::none_of(map_columns.begin(), map_columns.end(), same))
                map_columns.push_back(column);
            }
      }
    }
  std::string csv = "case_id,model,label,status,error,seconds";
  for (const auto& key : metric_keys) csv += "," + csvField(key);
  for (const auto& column : map_columns) csv += "," + csvField(column.item + ":" + column.key);
  csv += "\n";
  for (const auto& record : report["cases"]) {
    const std::string id = record.value("id", "");
    for (const auto& model : models) {
      const Json* entry = record.contains("models") && record["models"].contains(model)
                              ? &record["models"][model]
                              : nullptr;
      const bool ok = modelOk(record, model);
      if (!ok || !entry->contains("labels") || (*entry)["labels"].empty()) {
        std::string error = entry && entry->contains("error") ? (*entry)["error"].get<std::string>()
                                                              : record.value("error", "");
        csv += csvField(id) + "," + model + ",,error," + csvField(error) + ",";
        csv += std::string(metric_keys.size() + map_columns.size(), ',') + "\n";
        continue;
      }
      for (const auto& [label, values] : (*entry)["labels"].items()) {
        csv += csvField(id) + "," + model + "," + label + "," +
               csvValue(values.value("status", Json("ok"))) + "," +
               csvValue(values.value("error", Json(""))) + "," +
               csvValue(entry->value("seconds", Json(nullptr)));
        for (const auto& key : metric_keys)
          csv += "," + (values.contains(key) ? csvValue(values[key]) : "");
        for (const auto& column : map_columns) {
          const Json* stats = nullptr;
          if (entry->contains(column.section) && (*entry)[column.section].contains(column.item) &&
              (*entry)[column.section][column.item].contains(label))
            stats = &(*entry)[column.section][column.item][label];
          csv += "," + (stats && stats->contains(column.key) ? csvValue((*stats)[column.key]) : "");
        }
        csv += "\n";
      }
    }
  }
  return csv;
}

namespace {

class ReportChecker {
 public:
  explicit ReportChecker(const std::string& source) : source_(source) {}

  [[noreturn]] void fail(const std::string& where, const std::string& problem) const {
    throw FormatError(fmt::format("{}: {} {}", source_, where, problem));
  }
  void isObject(const Json& value, const std::string& where) const {
    if (!value.is_object()) fail(where, "must be an object, not " + jsonExcerpt(value));
  }
  void isNumber(const Json& value, const std::string& where) const {
    if (!reportNumber(value))
      fail(where, "must be a number or \"nan\", \"inf\", \"-inf\", not " + jsonExcerpt(value));
  }
  // "status" one of `allowed` and "error" a string, where present.
  void status(const Json& record, const std::string& where,
              std::initializer_list<const char*> allowed) const {
    if (record.contains("error") && !record["error"].is_string())
      fail(where + ".error", "must be a string, not " + jsonExcerpt(record["error"]));
    if (!record.contains("status")) return;
    const Json& s = record["status"];
    for (const char* a : allowed)
      if (s.is_string() && s.get<std::string>() == a) return;
    fail(where + ".status", "is not a known status: " + jsonExcerpt(s));
  }
  // label -> {metric: number, status, error, tp/fp/fn/tn}
  void labels(const Json& labels, const std::string& where) const {
    isObject(labels, where);
    for (const auto& [label, metrics] : labels.items()) {
      const std::string at = where + "." + label;
      isObject(metrics, at);
      status(metrics, at, {"ok", "both_empty", "reference_empty", "prediction_empty"});
      for (const auto& [key, value] : metrics.items())
        if (key != "status" && key != "error") isNumber(value, at + "." + key);
    }
  }
  // gate (or attribution map) -> label -> {statistic: number, status}
  void attention(const Json& gates, const std::string& where) const {
    isObject(gates, where);
    for (const auto& [gate, per_label] : gates.items()) {
      isObject(per_label, where + "." + gate);
      for (const auto& [label, statistics] : per_label.items()) {
        const std::string at = where + "." + gate + "." + label;
        isObject(statistics, at);
        for (const auto& [key, value] : statistics.items()) {
          if (key != "status" && key != "error")
            isNumber(value, at + "." + key);
          else if (!value.is_string())
            fail(at + "." + key, "must be a string, not " + jsonExcerpt(value));
        }
      }
    }
  }

 private:
  const std::string& source_;
};

}  // namespace

void validateReport(const Json& report, const std::string& source) {
  const ReportChecker check(source);
  if (!report.is_object() || !report.contains("schema") || report["schema"] != "gatescope.report/1")
    throw FormatError(source + ": not a gatescope evaluation report (schema gatescope.report/1)");
  if (report.contains("task") && report["task"] == "classification")
    throw UsageError(source +
                     ": a classification report; this reads segmentation reports (classification "
                     "reports: render plot, gates and compare, compare and the workbench - "
                     "docs/classification.md)");
  if (!report.contains("models")) check.fail("\"models\"", "is missing");
  check.isObject(report["models"], "\"models\"");
  if (!report["models"].contains("A")) check.fail("\"models\"", "has no model A");
  for (const auto& [key, model] : report["models"].items()) {
    if (key != "A" && key != "B")
      check.fail("\"models\"", "has a model \"" + key.substr(0, 20) + "\" (only A and B)");
    check.isObject(model, "models." + key);
  }
  if (!report.contains("cases") || !report["cases"].is_array())
    check.fail("\"cases\"", "must be an array of case records");
  std::map<std::string, size_t> seen;
  const Json& cases = report["cases"];
  for (size_t n = 0; n < cases.size(); ++n) {
    const Json& record = cases[n];
    std::string where = fmt::format("cases[{}]", n);
    check.isObject(record, where);
    if (!record.contains("id") || !record["id"].is_string() ||
        record["id"].get<std::string>().empty())
      check.fail(where + ".id", "must be a non-empty string");
    const std::string id = record["id"].get<std::string>();
    const auto [previous, inserted] = seen.emplace(id, n);
    if (!inserted)
      check.fail(where,
                 fmt::format("repeats case id \"{}\" (also cases[{}]): each case must appear once",
                             id.substr(0, 60), previous->second));
    where += " (" + id.substr(0, 60) + ")";
    check.status(record, where, {"ok", "error"});
    if (!record.contains("models")) continue;
    check.isObject(record["models"], where + ".models");
    for (const auto& [key, result] : record["models"].items()) {
      const std::string at = where + ".models." + key;
      if (!report["models"].contains(key)) check.fail(at, "belongs to no model of the report");
      check.isObject(result, at);
      check.status(result, at, {"ok", "error"});
      if (result.contains("seconds")) check.isNumber(result["seconds"], at + ".seconds");
      if (result.contains("labels")) check.labels(result["labels"], at + ".labels");
      if (result.contains("attention")) check.attention(result["attention"], at + ".attention");
      if (result.contains("attribution"))
        check.attention(result["attribution"], at + ".attribution");
    }
  }
}

}  // namespace gatescope
