#include "analysis/evaluation/nnunet_results.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <regex>

#include "analysis/core/error.hpp"
#include "analysis/core/json_number.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/json_file.hpp"
#include "analysis/models/prediction_folder.hpp"

namespace gatescope {
namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Python's json module writes NaN and Infinity as bare words; JSON has no such values. Outside
// strings they are replaced by strings reportNumber reads back.
std::string pythonJsonToJson(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size())
        out += text[++i];
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    bool replaced = false;
    for (const auto& [word, replacement] :
         {std::pair<std::string_view, std::string_view>{"NaN", "\"nan\""},
          {"-Infinity", "\"-inf\""},
          {"Infinity", "\"inf\""}})
      if (!replaced && text.compare(i, word.size(), word) == 0) {
        out += replacement;
        i += word.size() - 1;
        replaced = true;
      }
    if (!replaced) out += c;
  }
  return out;
}

double numberOf(const nlohmann::json& value, const fs::path& file, const std::string& what) {
  if (value.is_number()) return value.get<double>();
  if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    if (s == "nan") return kNaN;
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
  }
  throw FormatError(fmt::format("{}: {} is not a number", file.string(), what));
}

void readSummary(const fs::path& file, NnunetSummary& summary) {
  const std::vector<uint8_t> bytes = readWholeFile(file);
  const nlohmann::json j =
      parseJson(pythonJsonToJson(std::string(bytes.begin(), bytes.end())), file.string());
  if (!j.is_object() || !j.contains("metric_per_case") || !j["metric_per_case"].is_array())
    throw FormatError(file.string() + ": not nnU-Net's summary.json (no metric_per_case list)");
  size_t n = 0;
  for (const auto& entry : j["metric_per_case"]) {
    const std::string where = fmt::format("metric_per_case[{}]", n++);
    if (!entry.is_object() || !entry.contains("prediction_file") ||
        !entry["prediction_file"].is_string() || !entry.contains("metrics") ||
        !entry["metrics"].is_object())
      throw FormatError(
          fmt::format("{}: {} lacks prediction_file or metrics", file.string(), where));
    const std::string id =
        stripImageExtension(fs::path(entry["prediction_file"].get<std::string>()));
    auto& labels = summary.cases[id];
    for (const auto& [key, metrics] : entry["metrics"].items()) {
      int64_t label = 0;
      try {
        size_t used = 0;
        label = std::stoll(key, &used);
        if (used != key.size()) throw std::invalid_argument(key);
      } catch (const std::exception&) {
        if (std::find(summary.regions.begin(), summary.regions.end(), key) == summary.regions.end())
          summary.regions.push_back(key);
        continue;
      }
      if (!metrics.is_object() || !metrics.contains("Dice") || !metrics.contains("IoU"))
        throw FormatError(
            fmt::format("{}: {} label {} lacks Dice or IoU", file.string(), where, key));
      NnunetCaseMetrics m;
      m.dice = numberOf(metrics["Dice"], file, where + " Dice");
      m.iou = numberOf(metrics["IoU"], file, where + " IoU");
      for (auto [name, field] : {std::pair{"TP", &m.tp}, {"FP", &m.fp}, {"FN", &m.fn}})
        if (metrics.contains(name) && metrics[name].is_number())
          *field = static_cast<int64_t>(std::llround(metrics[name].get<double>()));
      labels[label] = m;
    }
  }
  summary.files.push_back(file);
}

// "Dataset003_Liver/nnUNetTrainer__nnUNetPlans__3d_fullres" -> trainer, plans, configuration.
std::optional<std::array<std::string, 3>> trainerFolderParts(const fs::path& folder) {
  static const std::regex pattern(R"(^(.+)__(.+)__(.+)$)");
  std::smatch m;
  const std::string name = fs::absolute(folder).lexically_normal().filename().string();
  if (!std::regex_match(name, m, pattern)) return std::nullopt;
  return std::array<std::string, 3>{m[1], m[2], m[3]};
}

}  // namespace

std::optional<NnunetSummary> readNnunetSummaries(const fs::path& folder,
                                                 const std::vector<fs::path>& prediction_folders) {
  NnunetSummary summary;
  std::vector<fs::path> candidates = prediction_folders;
  if (std::find(candidates.begin(), candidates.end(), folder) == candidates.end())
    candidates.push_back(folder);
  for (const auto& dir : candidates) {
    const fs::path file = dir / "summary.json";
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) readSummary(file, summary);
  }
  if (summary.files.empty()) return std::nullopt;
  return summary;
}

Json describeNnunetResults(const fs::path& folder) {
  // The trainer folder is the folder itself or, for one fold's validation/, two levels up.
  for (const fs::path& candidate : {folder, folder / "..", folder / ".." / ".."}) {
    const fs::path dir = fs::weakly_canonical(candidate);
    std::error_code ec;
    if (!fs::is_regular_file(dir / "plans.json", ec)) continue;
    Json d = Json::object();
    d["folder"] = dir.string();
    if (const auto parts = trainerFolderParts(dir)) {
      d["trainer"] = (*parts)[0];
      d["plans"] = (*parts)[1];
      d["configuration"] = (*parts)[2];
    }
    const nlohmann::json plans = readJsonFile(dir / "plans.json", "nnU-Net plans");
    if (plans.is_object() && plans.contains("dataset_name") && plans["dataset_name"].is_string())
      d["dataset"] = plans["dataset_name"];
    if (fs::is_regular_file(dir / "dataset.json", ec)) {
      const nlohmann::json dataset = readJsonFile(dir / "dataset.json", "nnU-Net dataset.json");
      if (dataset.is_object() && dataset.contains("labels") && dataset["labels"].is_object() &&
          dataset["labels"].contains("ignore"))
        d["ignore_label"] = dataset["labels"]["ignore"];
    }
    return d;
  }
  return nullptr;
}

void addNnunetChecks(Json& report) {
  if (!report.contains("models") || !report["models"].is_object()) return;
  std::vector<std::pair<std::string, fs::path>> folders;
  for (const auto& [key, model] : report["models"].items())
    if (model.value("architecture", "") == kPredictionFolderArchitecture)
      folders.emplace_back(key, model.value("manifest", ""));
  for (const auto& [key, path] : folders) {
    const PredictionFolder folder(path);
    if (const auto summary = readNnunetSummaries(folder.folder(), folder.sources()))
      report["models"][key]["nnunet_check"] = crossCheckNnunet(*summary, report, key);
  }
}

Json crossCheckNnunet(const NnunetSummary& summary, const Json& report, const std::string& key) {
  Json files = Json::array();
  for (const auto& f : summary.files) files.push_back(f.string());
  Json per_case = Json::array();
  struct Differences {
    std::vector<double> dice, iou;
    size_t nan_both = 0, nan_one = 0;
  };
  std::map<int64_t, Differences> by_label;
  std::vector<std::string> not_in_summary;
  size_t compared = 0;
  for (const auto& record : report["cases"]) {
    const std::string id = record.value("id", "");
    if (!record.contains("models") || !record["models"].contains(key)) continue;
    const Json& result = record["models"][key];
    if (result.value("status", "") != "ok" || !result.contains("labels")) continue;
    const auto it = summary.cases.find(id);
    if (it == summary.cases.end()) {
      not_in_summary.push_back(id);
      continue;
    }
    ++compared;
    for (const auto& [label_key, metrics] : result["labels"].items()) {
      const int64_t label = std::stoll(label_key);
      const auto theirs = it->second.find(label);
      if (theirs == it->second.end()) continue;
      const double dice = reportNumber(metrics.value("dice", Json())).value_or(kNaN);
      const double iou = reportNumber(metrics.value("jaccard", Json())).value_or(kNaN);
      Differences& d = by_label[label];
      for (auto [ours, nnunet, list] : {std::tuple{dice, theirs->second.dice, &d.dice},
                                        std::tuple{iou, theirs->second.iou, &d.iou}}) {
        if (std::isnan(ours) && std::isnan(nnunet))
          ++d.nan_both;
        else if (std::isnan(ours) || std::isnan(nnunet))
          ++d.nan_one;
        else
          list->push_back(ours - nnunet);
      }
      per_case.push_back({{"id", id},
                          {"label", label},
                          {"dice", jsonNumber(dice)},
                          {"dice_nnunet", jsonNumber(theirs->second.dice)},
                          {"dice_difference", jsonNumber(dice - theirs->second.dice)},
                          {"iou", jsonNumber(iou)},
                          {"iou_nnunet", jsonNumber(theirs->second.iou)},
                          {"iou_difference", jsonNumber(iou - theirs->second.iou)}});
    }
  }
  Json labels = Json::object();
  double worst = 0.0;
  for (const auto& [label, d] : by_label) {
    Json entry = Json::object();
    for (const auto& [name, list] : {std::pair{"dice", &d.dice}, {"iou", &d.iou}}) {
      double max_abs = 0.0, sum = 0.0;
      for (double x : *list) {
        max_abs = std::max(max_abs, std::abs(x));
        sum += x;
      }
      worst = std::max(worst, max_abs);
      entry[name] = {{"compared", list->size()},
                     {"max_abs_difference", max_abs},
                     {"mean_difference", list->empty() ? 0.0 : sum / list->size()}};
    }
    entry["both_nan"] = d.nan_both;
    entry["nan_in_one"] = d.nan_one;
    labels[std::to_string(label)] = entry;
  }
  Json out = {{"summary_files", files},
              {"cases_compared", compared},
              {"max_abs_difference", worst},
              {"labels", labels}};
  if (!not_in_summary.empty()) out["cases_not_in_summary"] = not_in_summary;
  if (!summary.regions.empty()) {
    out["regions_not_compared"] = summary.regions;
  }
  out["cases"] = per_case;
  return out;
}

}  // namespace gatescope
