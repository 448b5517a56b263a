#include "analysis/evaluation/saved_case.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "analysis/datasets/classification_dataset.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/io/json_file.hpp"
#include "analysis/models/prediction_folder.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

void requireGrid(const Geometry& geometry, const Geometry& image, const fs::path& file,
                 const fs::path& image_file) {
  if (!geometry.sameGrid(image))
    throw GeometryError(fmt::format("{}: lies on a different grid than the image {}: {}",
                                    file.string(), image_file.string(),
                                    geometry.difference(image)));
}

Volume<int32_t> readLabels(const fs::path& file, const CaseVolumes& c, const fs::path& image_file) {
  const Image image = readImage(file);
  Volume<int32_t> labels = toLabelVolume(image, file.string());
  requireGrid(labels.geometry(), c.image.geometry(), file, image_file);
  return labels;
}

Volume<float> readScalars(const fs::path& file, const CaseVolumes& c, const fs::path& image_file) {
  Volume<float> values = toFloatVolume(readImage(file));
  requireGrid(values.geometry(), c.image.geometry(), file, image_file);
  return values;
}

void readAttributionList(const fs::path& dir, const Json& record, const fs::path& file,
                         const std::string& list, const CaseVolumes& c, const fs::path& image_file,
                         ModelOutputs& model);

// A classifier's answer in its infer.json `record` (read from `file`), or nullopt for a
// segmentation network's.
std::optional<ClassAnswer> readClassAnswer(const Json& record, const fs::path& file) {
  if (!record.is_object() || record.value("task", "") != "classification") return std::nullopt;
  try {
    ClassAnswer answer{record.at("predicted_class").get<int>(),
                       record.at("probabilities").get<std::vector<double>>()};
    if (answer.predicted_class < 0 ||
        answer.predicted_class >= static_cast<int>(answer.probabilities.size()))
      throw FormatError("the predicted class is not one of the probabilities'");
    return answer;
  } catch (const std::exception& e) {
    throw FormatError(file.string() + ": not a classifier's infer.json: " + e.what());
  }
}

// An infer/evaluate/attribute output folder: labels.nii.gz, probabilities.nii.gz,
// gates/<gate>.nii.gz, attribute.json with its maps.
// Gate names come from `gates` when given (the report's order), else from the folder.
ModelOutputs readPredictionFolder(const fs::path& dir, const std::string& name,
                                  std::vector<std::string> gates, const CaseVolumes& c,
                                  const fs::path& image_file, bool want_probabilities) {
  if (!fs::is_directory(dir)) throw IoError(dir.string() + ": no such prediction folder");
  ModelOutputs model;
  model.name = name;
  if (fs::exists(dir / "labels.nii.gz"))
    model.prediction = readLabels(dir / "labels.nii.gz", c, image_file);
  if (want_probabilities && fs::exists(dir / "probabilities.nii.gz"))
    model.probabilities = readScalars(dir / "probabilities.nii.gz", c, image_file);
  if (gates.empty() && fs::is_directory(dir / "gates")) {
    for (const auto& entry : fs::directory_iterator(dir / "gates")) {
      const std::string stem = stripImageExtension(entry.path());
      if (isSupportedImageName(entry.path()) && !stem.ends_with("_native")) gates.push_back(stem);
    }
    std::sort(gates.begin(), gates.end());
  }
  for (const auto& gate : gates) {
    const fs::path file = dir / "gates" / (gate + ".nii.gz");
    if (!fs::exists(file))
      throw IoError(file.string() + ": gate map missing from the prediction folder");
    model.gates.emplace_back(gate, readScalars(file, c, image_file));
    const fs::path native_file = dir / "gates" / (gate + "_native.nii.gz");
    if (fs::exists(native_file))
      model.native_gates.emplace_back(gate, toFloatVolume(readImage(native_file)));
  }
  if (fs::exists(dir / "attribute.json")) {
    const fs::path file = dir / "attribute.json";
    readAttributionList(dir, readOrderedJsonFile(file, "attribute.json"), file, "maps", c,
                        image_file, model);
  }
  if (fs::exists(dir / "infer.json")) {
    const fs::path file = dir / "infer.json";
    const Json record = readOrderedJsonFile(file, "infer.json");
    model.classification = readClassAnswer(record, file);
    // An evaluation of classifiers saves their attribution maps with the answer.
    if (model.classification && record.contains("attributions"))
      readAttributionList(dir, record, file, "attributions", c, image_file, model);
  }
  if (!model.prediction && model.gates.empty() && model.attributions.empty() &&
      !model.classification)
    throw IoError(dir.string() +
                  ": holds neither labels.nii.gz, gates/, a classifier's infer.json nor "
                  "attribute.json (an infer, attribute or evaluate output folder?)");
  return model;
}

// One saved attribution file (a map per class on the 4th axis) as display maps named
// "method@layer class C": the positive part divided by its maximum.
void readAttributionFile(const fs::path& file, const std::string& key,
                         const std::vector<int64_t>& classes, const CaseVolumes& c,
                         const fs::path& image_file, ModelOutputs& model) {
  const Volume<float> maps = readScalars(file, c, image_file);
  if (maps.channels() != static_cast<int64_t>(classes.size()))
    throw FormatError(fmt::format("{}: holds {} map(s), its record lists {} class(es)",
                                  file.string(), maps.channels(), classes.size()));
  for (size_t n = 0; n < classes.size(); ++n)
    model.attributions.emplace_back(classMapName(key, classes[n]),
                                    positiveOverMaximum(maps, static_cast<int64_t>(n)));
}

// The maps a report's settings.attribution lists for `key`, read from the model's prediction
// folder where they were saved.
void readAttributionMaps(const Json& report, const std::string& key, const fs::path& dir,
                         const CaseVolumes& c, const fs::path& image_file, ModelOutputs& model) {
  if (!report.contains("settings") || !report["settings"].contains("attribution")) return;
  for (const auto& entry : report["settings"]["attribution"].value("maps", Json::array())) {
    if (!entry.is_object() || entry.value("model", "") != key) continue;
    const std::string method = entry.value("method", "");
    std::vector<std::string> layers;
    for (const auto& l : entry.value("layers", Json::array())) layers.push_back(l);
    if (layers.empty()) layers.push_back("input");
    const std::vector<int64_t> classes = entry.value("classes", std::vector<int64_t>{});
    for (const auto& layer : layers) {
      const fs::path file = dir / "attributions" / method / (layer + ".nii.gz");
      if (fs::exists(file))
        readAttributionFile(file, method + "@" + layer, classes, c, image_file, model);
    }
  }
}

// The maps a record's list names (files relative to `dir`): "maps" of a `gatescope attribute`
// output folder's attribute.json, "attributions" of a classifier's infer.json saved by an
// evaluation. `file` is where the record was read, for errors.
void readAttributionList(const fs::path& dir, const Json& record, const fs::path& file,
                         const std::string& list, const CaseVolumes& c, const fs::path& image_file,
                         ModelOutputs& model) {
  if (!record.contains(list) || !record[list].is_array())
    throw FormatError(file.string() + ": no \"" + list + "\" list");
  for (const auto& entry : record[list]) {
    if (!entry.is_object() || !entry.contains("file") || !entry["file"].is_string() ||
        !entry.contains("key") || !entry["key"].is_string() || !entry.contains("classes"))
      throw FormatError(file.string() + ": a map without \"key\", \"file\" or \"classes\"");
    readAttributionFile(dir / entry["file"].get<std::string>(), entry["key"],
                        entry["classes"].get<std::vector<int64_t>>(), c, image_file, model);
  }
}

// A path recorded in a report: as it is, else below the dataset folder (reports keep the paths
// as the evaluation was given them, often relative to where it ran).
fs::path locate(const std::string& recorded, const fs::path& dataset) {
  const fs::path path = recorded;
  if (fs::exists(path)) return path;
  fs::path rest;
  std::vector<fs::path> parts(path.begin(), path.end());
  for (size_t first = 1; first < parts.size(); ++first) {
    rest.clear();
    for (size_t n = first; n < parts.size(); ++n) rest /= parts[n];
    if (fs::exists(dataset / rest)) return dataset / rest;
  }
  throw IoError(recorded + ": the case's file is not there (nor under the report's dataset " +
                dataset.string() + ")");
}

// Model A's prediction folder where the report's model A is one (its files stand in for predictions
// not saved with the evaluation); nullopt otherwise or where the folder is gone.
std::optional<PredictionFolder> storedModelA(const Json& report) {
  if (!report.contains("models") || !report["models"].contains("A")) return std::nullopt;
  const Json& a = report["models"]["A"];
  if (a.value("architecture", "") != kPredictionFolderArchitecture) return std::nullopt;
  try {
    return PredictionFolder(a.value("manifest", ""));
  } catch (const Error&) {
    return std::nullopt;
  }
}

bool hasPredictions(const fs::path& dir, const std::optional<PredictionFolder>& stored,
                    const std::string& id) {
  return fs::is_directory(dir / "predictions" / "A" / id) ||
         (stored && stored->labelFiles().count(id));
}

// The case `id` of an evaluation's report, which must have saved predictions; UsageError listing
// the cases that have them.
const Json& savedCaseEntry(const fs::path& dir, const Json& report, const std::string& id) {
  const auto listed = [&] {  // for the errors only: a stat per case
    const std::vector<std::string> saved = casesWithPredictions(dir, report);
    return saved.empty() ? std::string("none") : fmt::format("{}", fmt::join(saved, ", "));
  };
  if (id.empty())
    throw UsageError(fmt::format(
        "--case is required with --evaluation (cases with saved predictions: {})", listed()));
  const Json* entry = nullptr;
  for (const auto& c : report["cases"])
    if (c["id"] == id) entry = &c;
  if (!entry)
    throw UsageError(
        fmt::format("{}: no case '{}' in the report", (dir / "report.json").string(), id));
  if (!hasPredictions(dir, storedModelA(report), id))
    throw UsageError(
        fmt::format("{}: case '{}' has no saved predictions (run evaluate with --save-predictions; "
                    "cases with predictions: {})",
                    dir.string(), id, listed()));
  return *entry;
}

}  // namespace

SavedCase loadClassifiedCase(const fs::path& dir, const Json& report, const std::string& id) {
  SavedCase loaded;
  const Json& entry = savedCaseEntry(dir, report, id);
  const Json dataset_record = report.value("dataset", Json::object());
  const fs::path dataset = dataset_record.value("path", "");
  const std::string image = entry.value("image", "");
  if (image.empty())
    throw FormatError(fmt::format("{}: image '{}' has no \"image\" file in the report",
                                  (dir / "report.json").string(), id));
  const fs::path image_file = locate(image, dataset);
  loaded.volumes.id = id;
  loaded.volumes.image = toFloatVolume(readImage(image_file));
  loaded.volumes.true_class = entry["true_class"].get<int>();
  std::optional<std::array<double, 4>> box;
  if (entry.contains("box")) box = entry["box"].get<std::array<double, 4>>();
  const fs::path mask =
      entry.contains("mask") ? locate(entry["mask"].get<std::string>(), dataset) : fs::path();
  if (const auto inside = readLocalisation(mask, box, loaded.volumes.image.geometry())) {
    Volume<int32_t> reference(inside->geometry());
    std::copy(inside->data(), inside->data() + inside->size(), reference.data());
    loaded.volumes.reference = std::move(reference);
  }
  for (const auto& name : dataset_record.value("classes", Json::array()))
    loaded.class_names.push_back(name.is_string() ? name.get<std::string>() : "");
  for (const char* key : {"A", "B"}) {
    if (!report["models"].contains(key)) continue;
    const Json& model = report["models"][key];
    std::vector<std::string> gates;
    for (const auto& g : model.value("gates", Json::array())) gates.push_back(g);
    ModelOutputs outputs = readPredictionFolder(
        dir / "predictions" / key / id, fmt::format("{}: {}", key, model.value("name", key)), gates,
        loaded.volumes, image_file, false);
    const Json& result = entry["models"].value(key, Json::object());
    if (result.value("status", "") == "ok")
      outputs.classification = ClassAnswer{result["predicted_class"].get<int>(),
                                           result["probabilities"].get<std::vector<double>>()};
    loaded.models.push_back(std::move(outputs));
  }
  return loaded;
}

Json readEvaluationReport(const fs::path& path) {
  const fs::path file = evaluationReportFile(path);
  Json report = readOrderedJsonFile(file, "evaluation report");
  validateReport(report, file.string());
  return report;
}

fs::path evaluationReportFile(const fs::path& evaluation) {
  const fs::path file = fs::is_directory(evaluation) ? evaluation / "report.json" : evaluation;
  if (!fs::exists(file))
    throw IoError(file.string() + ": no report.json (the output of gatescope evaluate)");
  return file;
}

bool isClassificationEvaluation(const fs::path& evaluation) {
  const Json report = readOrderedJsonFile(evaluationReportFile(evaluation), "evaluation report");
  return report.is_object() && report.value("task", "") == "classification";
}

std::vector<SavedCase> loadClassifiedCases(const fs::path& evaluation,
                                           const std::vector<std::string>& ids) {
  const fs::path file = evaluationReportFile(evaluation);
  const Json report = readOrderedJsonFile(file, "evaluation report");
  validateClassificationReport(report, file.string());
  std::vector<std::string> chosen = ids;
  if (chosen.empty()) {
    std::set<int> classes;
    const std::vector<std::string> saved = casesWithPredictions(file.parent_path(), report);
    const std::set<std::string> with(saved.begin(), saved.end());
    for (const auto& c : report["cases"])
      if (with.count(c["id"].get<std::string>()) &&
          classes.insert(c["true_class"].get<int>()).second)
        chosen.push_back(c["id"].get<std::string>());
    if (chosen.empty())
      throw UsageError(file.parent_path().string() +
                       ": no image has saved predictions (run evaluate with --save-predictions)");
  }
  std::vector<SavedCase> cases;
  for (const std::string& id : chosen)
    cases.push_back(loadClassifiedCase(file.parent_path(), report, id));
  return cases;
}

SavedCase loadSavedCase(const SavedCaseSource& source, bool want_probabilities) {
  SavedCase loaded;
  if (!source.evaluation.empty()) {
    if (!source.image.empty() || !source.prediction_dirs.empty())
      throw UsageError(
          "give either --evaluation (with --case) or --image with --prediction-dir, not both");
    const fs::path file = evaluationReportFile(source.evaluation);
    const fs::path dir = file.parent_path();
    Json report = readOrderedJsonFile(file, "evaluation report");
    if (report.is_object() && report.value("task", "") == "classification") {
      validateClassificationReport(report, file.string());
      return loadClassifiedCase(dir, report, source.case_id);
    }
    validateReport(report, file.string());
    loaded.label_names = reportLabelNames(report);
    const Json* entry = &savedCaseEntry(dir, report, source.case_id);
    const fs::path dataset = report["dataset"].value("path", "");
    const fs::path image_file = locate((*entry)["images"].at(0).get<std::string>(), dataset);
    loaded.volumes.id = source.case_id;
    loaded.volumes.image = toFloatVolume(readImage(image_file));
    if (entry->contains("reference") && (*entry)["reference"].is_string())
      loaded.volumes.reference =
          readLabels(locate((*entry)["reference"], dataset), loaded.volumes, image_file);
    for (const char* key : {"A", "B"}) {
      if (!report["models"].contains(key)) continue;
      const Json& model = report["models"][key];
      std::vector<std::string> gates;
      for (const auto& g : model.value("gates", Json::array())) gates.push_back(g);
      const fs::path folder = dir / "predictions" / key / source.case_id;
      const std::string name = fmt::format("{}: {}", key, model.value("name", key));
      const bool stored = model.value("architecture", "") == kPredictionFolderArchitecture;
      if (stored && !fs::is_directory(folder)) {
        // Not saved with the evaluation: the prediction folder the report names has the file.
        ModelOutputs outputs;
        outputs.name = name;
        const PredictionFolder source_folder(model.value("manifest", ""));
        const auto file = source_folder.labelFiles().find(source.case_id);
        if (file == source_folder.labelFiles().end())
          throw IoError(fmt::format("{}: no prediction for case {}",
                                    source_folder.folder().string(), source.case_id));
        outputs.prediction = readLabels(file->second, loaded.volumes, image_file);
        loaded.models.push_back(std::move(outputs));
      } else {
        loaded.models.push_back(readPredictionFolder(folder, name, gates, loaded.volumes,
                                                     image_file, want_probabilities));
      }
      loaded.models.back().stored_predictions = stored;
      readAttributionMaps(report, key, folder, loaded.volumes, image_file, loaded.models.back());
    }
    loaded.report = std::move(report);
    return loaded;
  }
  if (source.image.empty())
    throw UsageError("give --evaluation DIR --case ID, or --image FILE with --prediction-dir");
  if (!source.case_id.empty()) throw UsageError("--case goes with --evaluation");
  const fs::path image_file = source.image;
  loaded.volumes.id = stripImageExtension(image_file);
  loaded.volumes.image = toFloatVolume(readImage(image_file));
  if (!source.reference.empty())
    loaded.volumes.reference = readLabels(source.reference, loaded.volumes, image_file);
  const char* keys[] = {"A", "B"};
  for (size_t n = 0; n < source.prediction_dirs.size(); ++n) {
    const fs::path dir = source.prediction_dirs[n];
    std::string name = dir.filename().string();
    for (const char* record_name : {"infer.json", "attribute.json"}) {
      if (!fs::exists(dir / record_name)) continue;
      const Json record = readOrderedJsonFile(dir / record_name, record_name);
      if (record.contains("model") && record["model"].is_object() &&
          record["model"].contains("name") && record["model"]["name"].is_string()) {
        name = record["model"]["name"].get<std::string>();
        break;
      }
    }
    loaded.models.push_back(readPredictionFolder(dir, fmt::format("{}: {}", keys[n], name), {},
                                                 loaded.volumes, image_file, want_probabilities));
  }
  return loaded;
}

int parseLabel(const std::string& text, const std::map<int, std::string>& names) {
  if (text.empty()) return 0;
  for (const auto& [value, name] : names)
    if (name == text) return value;
  try {
    size_t used = 0;
    const int value = std::stoi(text, &used);
    if (used == text.size() && value >= 0) return value;
  } catch (const std::exception&) {
  }
  std::string known;
  for (const auto& [value, name] : names)
    known += fmt::format("{}{} ({})", known.empty() ? "" : ", ", value, name);
  throw UsageError(fmt::format("--label '{}' is neither a label value nor a label name{}", text,
                               known.empty() ? "" : " (labels: " + known + ")"));
}

std::vector<std::string> casesWithPredictions(const fs::path& evaluation, const Json& report) {
  std::vector<std::string> saved;
  const std::optional<PredictionFolder> stored = storedModelA(report);
  for (const auto& c : report["cases"]) {
    const std::string id = c.value("id", "");
    if (!id.empty() && hasPredictions(evaluation, stored, id)) saved.push_back(id);
  }
  return saved;
}

std::map<int, std::string> reportLabelNames(const Json& report) {
  std::map<int, std::string> names;
  if (report.contains("dataset") && report["dataset"].contains("labels"))
    for (const auto& [value, name] : report["dataset"]["labels"].items())
      if (name.is_string()) names[std::stoi(value)] = name.get<std::string>();
  return names;
}

}  // namespace gatescope
