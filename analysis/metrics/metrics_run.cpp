#include "analysis/metrics/metrics_run.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <future>
#include <map>
#include <set>
#include <sstream>

#include "analysis/core/json_number.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/metrics/metric_suite.hpp"
#include "analysis/stats/summary.hpp"
#include "analysis/version.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

std::map<std::string, fs::path> imagesById(const fs::path& folder) {
  std::map<std::string, fs::path> images;
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (!entry.is_regular_file() || !isSupportedImageName(entry.path())) continue;
    const std::string id = stripImageExtension(entry.path());
    if (const auto [it, inserted] = images.emplace(id, entry.path()); !inserted)
      throw UsageError(fmt::format("{}: two files for case '{}': {} and {}", folder.string(), id,
                                   it->second.filename().string(),
                                   entry.path().filename().string()));
  }
  return images;
}

double gridDiagonal(const Geometry& g) {
  double sum = 0;
  for (int c = 0; c < 3; ++c) {
    const double extent = static_cast<double>(g.dims[c]) * g.spacing_mm[c];
    sum += extent * extent;
  }
  return std::sqrt(sum);
}

CaseMetrics measureCase(const CasePair& pair, const MetricConfig& config) {
  CaseMetrics result;
  result.pair = pair;
  const auto start = std::chrono::steady_clock::now();
  try {
    if (pair.reference.empty())
      throw IoError(fmt::format("case {}: no reference file for prediction {}", pair.id,
                                pair.prediction.string()));
    if (pair.prediction.empty())
      throw IoError(fmt::format("case {}: no prediction file for reference {}", pair.id,
                                pair.reference.string()));
    // Decompressing the two files is the slowest part of small cases: do both at once.
    auto prediction = std::async(std::launch::async, [&] { return readImage(pair.prediction); });
    Image reference = readImage(pair.reference);
    Image predicted = prediction.get();
    result.diagonal_mm = gridDiagonal(reference.geometry());
    result.labels = computeMetrics(std::move(reference), std::move(predicted), config,
                                   pair.reference.string(), pair.prediction.string());
    result.ok = true;
  } catch (const Error& e) {
    result.error = e.what();
  } catch (const std::bad_alloc&) {
    result.error = fmt::format("case {}: out of memory", pair.id);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace

std::vector<CasePair> pairCases(const fs::path& reference, const fs::path& prediction) {
  std::error_code ec;
  for (const auto& p : {reference, prediction})
    if (!fs::exists(p, ec)) throw UsageError(p.string() + ": no such file or folder");
  const bool ref_folder = fs::is_directory(reference), pred_folder = fs::is_directory(prediction);
  if (ref_folder != pred_folder)
    throw UsageError(
        fmt::format("--reference {} and --prediction {} must both be files or both be folders",
                    reference.string(), prediction.string()));
  if (!ref_folder) return {{stripImageExtension(reference), reference, prediction}};

  const auto refs = imagesById(reference);
  const auto preds = imagesById(prediction);
  if (refs.empty()) throw UsageError(reference.string() + ": no .nii, .nii.gz or .png files");
  if (preds.empty()) throw UsageError(prediction.string() + ": no .nii, .nii.gz or .png files");
  std::set<std::string> ids;
  for (const auto& [id, path] : refs) ids.insert(id);
  for (const auto& [id, path] : preds) ids.insert(id);
  std::vector<CasePair> cases;
  for (const auto& id : ids) {
    const auto r = refs.find(id);
    const auto p = preds.find(id);
    cases.push_back(
        {id, r == refs.end() ? fs::path() : r->second, p == preds.end() ? fs::path() : p->second});
  }
  return cases;
}

MetricsReport runMetrics(const std::vector<CasePair>& cases, const MetricConfig& config,
                         const NonFinitePolicy& nonfinite, const CaseCallback& progress) {
  MetricsReport report{config, nonfinite, {}};
  for (const CasePair& pair : cases) {
    report.cases.push_back(measureCase(pair, config));
    if (progress) progress(report.cases.size(), cases.size(), report.cases.back());
  }
  return report;
}

namespace {

bool isDistanceKey(const std::string& key) {
  return key.ends_with("_mm") && key != "reference_volume_mm3" && key != "prediction_volume_mm3";
}

// Per label, per metric: the values over the cases that succeeded, after the non-finite policy.
std::map<int64_t, std::map<std::string, std::vector<double>>> valuesByLabel(
    const MetricsReport& report, std::vector<std::string>& key_order) {
  std::map<int64_t, std::map<std::string, std::vector<double>>> values;
  for (const CaseMetrics& c : report.cases) {
    if (!c.ok) continue;
    for (const LabelMetrics& m : c.labels) {
      const auto named = namedValues(m, report.config);
      if (key_order.empty())
        for (const auto& v : named) key_order.push_back(v.key);
      for (const auto& v : named) {
        double value = v.value;
        if (std::isinf(value) && value > 0 && isDistanceKey(v.key)) {
          if (report.nonfinite.mode == NonFinitePolicy::Mode::Diagonal) value = c.diagonal_mm;
          if (report.nonfinite.mode == NonFinitePolicy::Mode::Value)
            value = report.nonfinite.value_mm;
        }
        values[m.label][v.key].push_back(value);
      }
    }
  }
  return values;
}

}  // namespace

nlohmann::ordered_json metricsReportJson(const MetricsReport& report) {
  using json = nlohmann::ordered_json;
  json out;
  out["schema"] = "gatescope.metrics/1";
  out["gatescope_version"] = kVersion;
  out["preset"] = presetName(report.config.preset);
  out["percentile"] = report.config.percentile;
  out["tolerances_mm"] = report.config.tolerances_mm;
  out["include_background"] = report.config.include_background;
  const char* policy = report.nonfinite.mode == NonFinitePolicy::Mode::Skip       ? "skip"
                       : report.nonfinite.mode == NonFinitePolicy::Mode::Diagonal ? "diagonal"
                                                                                  : "value";
  out["nonfinite"] = {{"policy", policy}, {"value_mm", report.nonfinite.value_mm}};
  json cases = json::array();
  int64_t failed = 0;
  for (const CaseMetrics& c : report.cases) {
    json entry = {{"id", c.pair.id},
                  {"reference", c.pair.reference.string()},
                  {"prediction", c.pair.prediction.string()},
                  {"status", c.ok ? "ok" : "error"}};
    if (!c.ok) {
      ++failed;
      entry["error"] = c.error;
    } else {
      json labels = json::object();
      for (const LabelMetrics& m : c.labels)
        labels[std::to_string(m.label)] = toJson(m, report.config);
      entry["labels"] = labels;
    }
    entry["seconds"] = c.seconds;
    cases.push_back(entry);
  }
  out["cases"] = cases;
  std::vector<std::string> keys;
  const auto values = valuesByLabel(report, keys);
  json summary = json::object();
  for (const auto& [label, metrics] : values) {
    json per_metric = json::object();
    for (const auto& key : keys) per_metric[key] = toJson(summarize(metrics.at(key)));
    summary[std::to_string(label)] = per_metric;
  }
  out["summary"] = summary;
  out["n_cases"] = report.cases.size();
  out["n_failed"] = failed;
  return out;
}

namespace {
std::string csvField(const std::string& text) {
  if (text.find_first_of(",\"\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

std::string csvNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return fmt::format("{}", v);
}
}  // namespace

std::string metricsReportCsv(const MetricsReport& report) {
  std::ostringstream csv;
  const LabelMetrics blank;
  const auto header_values = namedValues(blank, report.config);
  csv << "case_id,reference,prediction,label,status,error";
  for (const auto& v : header_values) csv << "," << v.key;
  csv << "\n";
  for (const CaseMetrics& c : report.cases) {
    const std::string prefix = csvField(c.pair.id) + "," + csvField(c.pair.reference.string()) +
                               "," + csvField(c.pair.prediction.string()) + ",";
    if (!c.ok) {
      csv << prefix << ",error," << csvField(c.error);
      for (size_t n = 0; n < header_values.size(); ++n) csv << ",";
      csv << "\n";
      continue;
    }
    for (const LabelMetrics& m : c.labels) {
      csv << prefix << m.label << "," << emptyStatusName(m.status) << "," << csvField(m.error);
      for (const auto& v : namedValues(m, report.config)) csv << "," << csvNumber(v.value);
      csv << "\n";
    }
  }
  return csv.str();
}

}  // namespace gatescope
