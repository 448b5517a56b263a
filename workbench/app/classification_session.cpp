#include "workbench/app/classification_session.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <set>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/io/json_file.hpp"
#include "renderers/window_level.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

std::string lowered(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool passes(const ClassifiedRow& row, ClassifiedFilter filter, int models) {
  switch (filter) {
    case ClassifiedFilter::All:
      return true;
    case ClassifiedFilter::Disagreements:
      return models == 2 && row.predicted[0] != row.predicted[1];
    case ClassifiedFilter::Errors:
      return !row.right(0) || (models == 2 && !row.right(1));
    case ClassifiedFilter::WrongA:
      return !row.right(0);
    case ClassifiedFilter::WrongB:
      return models == 2 && !row.right(1);
  }
  return true;
}

}  // namespace

void ClassificationSession::open(const fs::path& evaluation) {
  const fs::path file = evaluationReportFile(evaluation);
  Json report = readOrderedJsonFile(file, "evaluation report");
  validateClassificationReport(report, file.string());
  const std::vector<std::string> saved = casesWithPredictions(file.parent_path(), report);
  const std::set<std::string> with(saved.begin(), saved.end());
  std::vector<ClassifiedRow> rows;
  for (const auto& c : report["cases"]) {
    ClassifiedRow row;
    row.id = c["id"].get<std::string>();
    row.true_class = c["true_class"].get<int>();
    row.status = c["status"] == "ok" ? "ok" : c.value("error", std::string("error"));
    row.has_predictions = with.count(row.id) > 0;
    int m = 0;
    for (const char* key : {"A", "B"}) {
      if (c["models"].contains(key) && c["models"][key].value("status", "") == "ok") {
        const Json& answer = c["models"][key];
        row.predicted[m] = answer["predicted_class"].get<int>();
        row.confidence[m] =
            answer["probabilities"][static_cast<size_t>(row.predicted[m])].get<double>();
      }
      ++m;
    }
    rows.push_back(std::move(row));
  }
  std::vector<std::string> names;
  const int classes = report["models"]["A"]["classes"].get<int>();
  const Json listed = report.contains("dataset") && report["dataset"].is_object()
                          ? report["dataset"].value("classes", Json::array())
                          : Json::array();
  for (int c = 0; c < classes; ++c) {
    const auto index = static_cast<size_t>(c);
    names.push_back(index < listed.size() && listed[index].is_string()
                        ? listed[index].get<std::string>()
                        : fmt::format("class {}", c));
  }
  dir_ = file.parent_path();
  report_ = std::move(report);
  class_names_ = std::move(names);
  rows_ = std::move(rows);
  current_.reset();
}

int ClassificationSession::modelCount() const {
  return report_ && (*report_)["models"].contains("B") ? 2 : 1;
}

std::string ClassificationSession::className(int index) const {
  if (index >= 0 && index < classCount()) return class_names_[static_cast<size_t>(index)];
  return fmt::format("class {}", index);
}

std::vector<ClassifiedRow> ClassificationSession::rows(const std::string& text,
                                                       ClassifiedFilter filter, int true_class,
                                                       ClassifiedSort sort, bool descending) const {
  const std::string wanted = lowered(text);
  std::vector<ClassifiedRow> out;
  for (const ClassifiedRow& row : rows_)
    if ((true_class < 0 || row.true_class == true_class) && passes(row, filter, modelCount()) &&
        (wanted.empty() || lowered(row.id).find(wanted) != std::string::npos))
      out.push_back(row);
  const auto key = [sort](const ClassifiedRow& r) {
    switch (sort) {
      case ClassifiedSort::TrueClass:
        return static_cast<double>(r.true_class);
      case ClassifiedSort::ConfidenceA:
        return r.confidence[0];
      case ClassifiedSort::ConfidenceB:
        return r.confidence[1];
      case ClassifiedSort::Id:
        break;
    }
    return 0.0;
  };
  std::stable_sort(out.begin(), out.end(), [&](const ClassifiedRow& a, const ClassifiedRow& b) {
    if (sort == ClassifiedSort::Id) return descending ? b.id < a.id : a.id < b.id;
    const double ka = key(a), kb = key(b);
    if (std::isnan(ka) || std::isnan(kb)) return !std::isnan(ka) && std::isnan(kb);
    return descending ? kb < ka : ka < kb;
  });
  return out;
}

std::string ClassificationSession::openingImage() const {
  const ClassifiedFilter telling =
      modelCount() == 2 ? ClassifiedFilter::Disagreements : ClassifiedFilter::WrongA;
  for (const ClassifiedFilter filter : {telling, ClassifiedFilter::All})
    for (const ClassifiedRow& row : rows_)
      if (row.has_predictions && passes(row, filter, modelCount())) return row.id;
  return {};
}

void ClassificationSession::show(const std::string& id) {
  if (!report_) throw UsageError("no evaluation of classifiers is open");
  SavedCase loaded = loadClassifiedCase(dir_, *report_, id);  // the report as opened
  style.window = defaultWindow(loaded.volumes.image);
  current_ = std::move(loaded);
}

PanelGrid ClassificationSession::imagePanels() const {
  if (!current_) throw UsageError("no image shown");
  std::vector<size_t> models;
  for (size_t m = 0; m < current_->models.size(); ++m) models.push_back(m);
  // The attribution maps saved for the image that every model has, beside the gates.
  std::vector<std::string> keys;
  for (const auto& [name, map] : current_->models.front().attributions) {
    const auto split = splitClassMapName(name);
    if (!split || std::find(keys.begin(), keys.end(), split->first) != keys.end()) continue;
    const bool everyone = std::all_of(
        current_->models.begin(), current_->models.end(), [&](const ModelOutputs& model) {
          return std::any_of(model.attributions.begin(), model.attributions.end(),
                             [&](const auto& entry) {
                               const auto other = splitClassMapName(entry.first);
                               return other && other->first == split->first;
                             });
        });
    if (everyone) keys.push_back(split->first);
  }
  return classificationGateFigure({*current_}, models, style, keys);
}

std::vector<std::pair<std::string, Json>> ClassificationSession::imageAttention(
    const std::string& model) const {
  std::vector<std::pair<std::string, Json>> out;
  if (!current_ || !report_) return out;
  for (const auto& c : (*report_)["cases"]) {
    if (c["id"] != current_->volumes.id || !c["models"].contains(model)) continue;
    const Json& answer = c["models"][model];
    if (!answer.contains("attention")) break;
    for (auto it = answer["attention"].begin(); it != answer["attention"].end(); ++it)
      out.emplace_back(it.key(), it.value());
    break;
  }
  return out;
}

RgbaImage ClassificationSession::plot(ClassificationPlotKind kind, double dpi) const {
  if (!report_) throw UsageError("no evaluation of classifiers is open");
  return drawClassificationPlot(*report_, kind, (dir_ / "report.json").string()).rasterize(dpi);
}

}  // namespace gatescope::workbench
