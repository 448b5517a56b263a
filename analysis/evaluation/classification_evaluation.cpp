#include "analysis/evaluation/classification_evaluation.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <chrono>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/classification/classification_metrics.hpp"
#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"
#include "analysis/datasets/classification_dataset.hpp"
#include "analysis/evaluation/evaluation_run.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/io/staged_folder.hpp"
#include "analysis/models/prediction_files.hpp"
#include "analysis/plugin/registry.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct Classifier {
  std::string key;  // "A", "B"
  std::unique_ptr<ModelAdapter> adapter;
  Json description;
  AttributionJob attribution;  // methods and layers of --attribution; no methods: none
};

// predictions/<model>/<image id>/ of --save-predictions: infer.json and the gate maps, as
// `gatescope infer` writes them.
void savePrediction(const fs::path& dir, const Classification& c, const Classifier& model,
                    const ClassificationItem& item, const Image& image,
                    const std::vector<AttributionMap>& maps) {
  StagedFolder folder(dir);
  Json record = {{"schema", "gatescope.infer/1"},
                 {"task", "classification"},
                 {"model", {{"name", model.adapter->info().name}}},
                 {"input", item.image.string()}};
  appendClassification(record, c, model.adapter->info());
  record["gates"] = writeGateFiles(folder, "", c.gates, image.header);
  if (!maps.empty()) record["attributions"] = writeAttributionFiles(folder, "", maps, image.header);
  writeFileAtomically(folder.stage("infer.json"), record.dump(2) + "\n");
  folder.commit();
}

Json classifyItem(const ClassificationItem& item, std::vector<Classifier>& models,
                  const EvaluationOptions& options) {
  Json record = {{"id", item.id}, {"image", item.image.string()}};
  if (!item.split.empty()) record["split"] = item.split;
  record["true_class"] = item.true_class;
  if (!item.problem.empty()) {
    record["status"] = "error";
    record["error"] = item.problem;
    record["models"] = Json::object();
    return record;
  }
  Image image;
  std::optional<Volume<uint8_t>> inside;
  try {
    image = readImage(item.image);
    checkFiniteValues(image, item.image.string());
    inside = readLocalisation(item.mask, item.box, image.geometry());
  } catch (const Error& e) {
    record["status"] = "error";
    record["error"] = e.what();
    record["models"] = Json::object();
    return record;
  }
  if (inside) {
    record["localisation"] = item.mask.empty() ? "box" : "mask";
    if (item.mask.empty())
      record["box"] = *item.box;
    else
      record["mask"] = item.mask.string();
  }
  const bool save =
      options.save_predictions &&
      (options.save_cases.empty() || std::find(options.save_cases.begin(), options.save_cases.end(),
                                               item.id) != options.save_cases.end());
  std::string first_error;
  Json results = Json::object();
  for (Classifier& model : models) {
    Json r;
    try {
      const Classification c = model.adapter->classify(image, inside.has_value() || save);
      r = {{"status", "ok"},
           {"predicted_class", c.predicted_class},
           {"probabilities", c.probabilities},
           {"heads", c.head_probabilities},
           {"seconds", c.seconds}};
      if (inside) {
        Json attention = Json::object();
        for (const GatePrediction& gate : c.gates)
          attention[gate.name] =
              toJson(attentionStatistics(gate.resampled, *inside, options.attention).front());
        r["attention"] = attention;
      }
      // Attribution maps of the image's true class: measured against its localisation, saved.
      std::vector<AttributionMap> maps;
      if (!model.attribution.methods.empty() && (inside || save) && item.true_class >= 0) {
        AttributionJob job = model.attribution;
        job.classes = {item.true_class};
        const auto start = Clock::now();
        maps = attributeImage(*model.adapter, image, job);
        r["attribution_seconds"] = since(start);
        if (inside) {
          Json statistics = Json::object();
          for (const AttributionMap& map : maps)
            statistics[map.key()] =
                toJson(attributionStatistics(map.map, *inside, options.attention));
          r["attribution"] = std::move(statistics);
        }
      }
      if (save)
        savePrediction(options.out / "predictions" / model.key / item.id, c, model, item, image,
                       maps);
    } catch (const Error& e) {
      r = {{"status", "error"}, {"error", e.what()}};
      if (first_error.empty()) first_error = model.key + ": " + e.what();
    }
    results[model.key] = std::move(r);
  }
  record["status"] = first_error.empty() ? "ok" : "error";
  if (!first_error.empty()) record["error"] = first_error;
  record["models"] = std::move(results);
  return record;
}

// The mean of each numeric attention statistic per gate (or attribution map: `field`
// "attribution") over the records of `key`.
Json attentionSummary(const Json& records, const std::string& key,
                      const std::string& field = "attention") {
  std::map<std::string, std::map<std::string, std::pair<double, int>>> sums;
  for (const auto& r : records) {
    if (!r["models"].contains(key) || !r["models"][key].contains(field)) continue;
    for (const auto& [gate, stats] : r["models"][key][field].items())
      for (const auto& [name, value] : stats.items())
        if (value.is_number() && std::isfinite(value.get<double>())) {
          auto& [sum, n] = sums[gate][name];
          sum += value.get<double>();
          ++n;
        }
  }
  Json out = Json::object();
  for (const auto& [gate, stats] : sums)
    for (const auto& [name, sum_n] : stats)
      out[gate][name] = {{"mean", sum_n.first / sum_n.second}, {"n", sum_n.second}};
  return out;
}

struct ModelAnswers {
  std::vector<int> truth, predicted;
  std::vector<std::vector<double>> probabilities;
  std::vector<std::string> ids;
};

ModelAnswers answersOf(const Json& records, const std::string& key) {
  ModelAnswers a;
  for (const auto& r : records) {
    if (!r["models"].contains(key) || r["models"][key]["status"] != "ok") continue;
    a.ids.push_back(r["id"].get<std::string>());
    a.truth.push_back(r["true_class"].get<int>());
    a.predicted.push_back(r["models"][key]["predicted_class"].get<int>());
    a.probabilities.push_back(r["models"][key]["probabilities"].get<std::vector<double>>());
  }
  return a;
}

Json compareModels(const Json& records, int classes, const PairedOptions& paired) {
  std::vector<int> truth, pa, pb;
  std::vector<std::vector<double>> qa, qb;
  for (const auto& r : records) {
    if (r["status"] != "ok") continue;
    truth.push_back(r["true_class"].get<int>());
    pa.push_back(r["models"]["A"]["predicted_class"].get<int>());
    pb.push_back(r["models"]["B"]["predicted_class"].get<int>());
    qa.push_back(r["models"]["A"]["probabilities"].get<std::vector<double>>());
    qb.push_back(r["models"]["B"]["probabilities"].get<std::vector<double>>());
  }
  if (truth.empty()) return {{"n", 0}};
  std::vector<bool> correct_a, correct_b;
  for (size_t i = 0; i < truth.size(); ++i)
    correct_a.push_back(pa[i] == truth[i]), correct_b.push_back(pb[i] == truth[i]);
  const McNemarResult test = mcNemar(correct_a, correct_b);
  const auto difference = [&](bool f1) {
    return [&, f1](const std::vector<size_t>& sample) {
      std::vector<int> t, a, b;
      std::vector<std::vector<double>> ra, rb;
      for (const size_t s : sample)
        t.push_back(truth[s]), a.push_back(pa[s]), b.push_back(pb[s]), ra.push_back(qa[s]),
            rb.push_back(qb[s]);
      const ClassificationMetrics ma = classificationMetrics(t, a, ra, classes);
      const ClassificationMetrics mb = classificationMetrics(t, b, rb, classes);
      return f1 ? ma.macro_f1 - mb.macro_f1 : ma.accuracy - mb.accuracy;
    };
  };
  std::vector<size_t> all(truth.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = i;
  Json out = {{"n", truth.size()},
              {"mcnemar",
               {{"only_a_correct", test.only_a},
                {"only_b_correct", test.only_b},
                {"statistic", test.statistic},
                {"p", test.p_value},
                {"exact", test.exact}}}};
  for (const bool f1 : {false, true}) {
    const auto [low, high] = bootstrapInterval(truth.size(), difference(f1), paired.confidence,
                                               paired.resamples, paired.seed);
    const double d = difference(f1)(all);
    out[f1 ? "macro_f1" : "accuracy"] = {{"difference", d},
                                         {"ci95", {low, high}},
                                         {"better", d > 0   ? "A"
                                                    : d < 0 ? "B"
                                                            : "equal"}};
  }
  return out;
}

}  // namespace

std::string classificationCsv(const Json& report) {
  std::ostringstream csv;
  csv << "id,true_class,status";
  for (const auto& [key, model] : report["models"].items())
    csv << "," << key << "_predicted_class," << key << "_probability_of_true_class";
  csv << "\n";
  for (const auto& r : report["cases"]) {
    csv << '"' << r["id"].get<std::string>() << "\"," << r["true_class"].get<int>() << ","
        << r["status"].get<std::string>();
    for (const auto& [key, model] : report["models"].items()) {
      const Json& m = r["models"].contains(key) ? r["models"][key] : Json::object();
      if (m.value("status", "") == "ok" && r["true_class"].get<int>() >= 0)
        csv << "," << m["predicted_class"].get<int>() << ","
            << fmt::format("{:.6g}",
                           m["probabilities"][static_cast<size_t>(r["true_class"].get<int>())]
                               .get<double>());
      else
        csv << ",,";
    }
    csv << "\n";
  }
  return csv.str();
}

void validateClassificationReport(const Json& report, const std::string& source) {
  const auto fail = [&](const std::string& problem) {
    throw FormatError(source + ": not a readable classification report: " + problem);
  };
  if (!report.is_object() || report.value("schema", "") != "gatescope.report/1")
    fail("schema is not gatescope.report/1");
  if (report.value("task", "") != "classification") fail("\"task\" is not \"classification\"");
  if (!report.contains("models") || !report["models"].is_object() ||
      !report["models"].contains("A"))
    fail("\"models\" has no model A");
  for (const auto& [key, model] : report["models"].items())
    if ((key != "A" && key != "B") || !model.is_object() || !model.contains("classes") ||
        !model["classes"].is_number_integer() || model["classes"].get<int>() < 2)
      fail("model " + key.substr(0, 20) + " is not described with its number of classes");
  if (!report.contains("cases") || !report["cases"].is_array()) fail("\"cases\" is not a list");
  const int classes = report["models"]["A"]["classes"].get<int>();
  for (const auto& r : report["cases"]) {
    if (!r.is_object() || !r.contains("id") || !r["id"].is_string() || !r.contains("true_class") ||
        !r["true_class"].is_number_integer() || !r.contains("status") || !r.contains("models") ||
        !r["models"].is_object())
      fail("a case without its id, true_class, status or models");
    const std::string id = r["id"].get<std::string>();
    for (const auto& [key, m] : r["models"].items()) {
      if (!m.is_object()) fail("case " + id + ": model " + key + " is not an object");
      if (m.value("status", "") != "ok") continue;
      if (!m.contains("predicted_class") || !m["predicted_class"].is_number_integer() ||
          !m.contains("probabilities") || !m["probabilities"].is_array() ||
          static_cast<int>(m["probabilities"].size()) != classes)
        fail(fmt::format("case {}: model {} has no predicted class or not {} probabilities", id,
                         key, classes));
    }
  }
}

void summarizeClassificationReport(Json& report, const PairedOptions& paired) {
  const Json& records = report["cases"];
  const int classes = report["models"]["A"].value("classes", 0);
  Json summary = Json::object();
  for (const auto& [key, model] : report["models"].items()) {
    const ModelAnswers answers = answersOf(records, key);
    Json s = {{"n_cases", records.size()}, {"n_failed", records.size() - answers.ids.size()}};
    if (!answers.ids.empty()) {
      const Json metrics = toJson(
          classificationMetrics(answers.truth, answers.predicted, answers.probabilities, classes));
      for (const auto& [name, value] : metrics.items()) s[name] = value;
    }
    const Json attention = attentionSummary(records, key);
    if (!attention.empty()) s["attention"] = attention;
    const Json attribution = attentionSummary(records, key, "attribution");
    if (!attribution.empty()) s["attribution"] = attribution;
    summary[key] = std::move(s);
  }
  report["summary"] = std::move(summary);
  if (report["models"].size() == 2)
    report["comparison"] = compareModels(records, classes, paired);
  else
    report.erase("comparison");
}

bool isClassifierModelFile(const fs::path& model) {
  if (model.extension() != ".json" || !fs::is_regular_file(model)) return false;
  try {
    return isClassifierArchitecture(readModelManifest(model).architecture);
  } catch (const Error&) {
    return false;  // the segmentation path reports what is wrong with the file
  }
}

EvaluationResult evaluateClassification(const EvaluationOptions& options, Registry& registry,
                                        const EvaluationCallback& progress) {
  const auto start = Clock::now();
  if (options.models.empty() || options.models.size() > 2)
    throw UsageError("evaluate takes one or two models");
  if (!options.predict.window.empty())
    throw UsageError(
        "--window does not apply to classifiers: a classifier answers for the whole "
        "image");
  if (options.batch > 1)
    throw UsageError(
        "--batch applies to segmentation models; classifiers answer one image at "
        "a time");
  std::vector<Classifier> models;
  const char* keys[] = {"A", "B"};
  for (size_t m = 0; m < options.models.size(); ++m) {
    if (!fs::exists(options.models[m]))
      throw UsageError(options.models[m].string() + ": no such model file");
    Classifier c{
        keys[m], registry.loadModel(options.models[m], LoadOptions{options.device}), {}, {}};
    const ModelInfo& info = c.adapter->info();
    if (info.task != "classification")
      throw UsageError(fmt::format("{}: {} segments; model A is a classifier, so both must be",
                                   options.models[m].string(), info.architecture));
    c.description = describeModel(options.models[m], info);
    for (const AttributionSpec& spec : options.attributions) {
      c.attribution.methods.push_back(spec.method);
      if (isLayerMethod(spec.method))
        for (const auto& layer : resolveAttributionLayers(*c.adapter, spec.layers))
          if (std::find(c.attribution.layers.begin(), c.attribution.layers.end(), layer) ==
              c.attribution.layers.end())
            c.attribution.layers.push_back(layer);
    }
    c.attribution.steps = options.attribution_steps;
    c.attribution.patch = options.occlusion_patch;
    c.attribution.stride = options.occlusion_stride;
    c.attribution.region = "all";
    models.push_back(std::move(c));
  }
  const ModelInfo& first = models.front().adapter->info();
  const int classes = first.n_classes;
  if (models.size() == 2 && models[1].adapter->info().n_classes != classes)
    throw UsageError(fmt::format("model A has {} classes, model B {}", classes,
                                 models[1].adapter->info().n_classes));
  std::vector<std::string> names;  // the model's class names, when it names every class
  for (int c = 0; c < classes; ++c)
    if (first.labels.count(c)) names.push_back(first.labels.at(c));
  if (static_cast<int>(names.size()) != classes) names.clear();

  const ClassificationDataset dataset = openClassificationDataset(options.dataset, names);
  if (static_cast<int>(dataset.classes.size()) > classes)
    throw UsageError(fmt::format("{}: {} classes, but the model predicts {}",
                                 options.dataset.string(), dataset.classes.size(), classes));
  std::vector<ClassificationItem> items;
  std::set<std::string> splits;
  for (const auto& item : dataset.items) {
    splits.insert(item.split);
    if (options.split == "auto" || options.split == "all" || item.split == options.split)
      items.push_back(item);
  }
  if (items.empty())
    throw UsageError(fmt::format("{}: no image in split '{}' (splits: {})",
                                 options.dataset.string(), options.split, fmt::join(splits, ", ")));
  if (options.limit && *options.limit < items.size()) items.resize(*options.limit);

  Json identity = {{"task", "classification"},
                   {"dataset", dataset.root.string()},
                   {"split", options.split},
                   {"attention", attentionSettings(options.attention)}};
  Json descriptions = Json::object();
  for (const auto& model : models) {
    descriptions[model.key] = model.description;
    identity["models"][model.key] = modelIdentity(model.description);
  }
  Json context = {{"task", "classification"}, {"cases", Json::array()}};
  for (const auto& item : items) context["cases"].push_back(item.id);
  context["paired"] = pairedSettings(options.paired);
  context["report"] = {
      {"task", "classification"},
      {"preset", "default"},
      {"device", deviceDescription(first.device, registry)},
      {"torch_version", torchVersion(registry)},
      {"models", descriptions},
      {"dataset",
       {{"path", dataset.root.string()},
        {"layout", dataset.layout},
        {"classes", dataset.classes},
        {"split", options.split},
        {"cases", items.size()}}},
      {"settings",
       {{"attention", attentionSettings(options.attention)}, {"paired", context["paired"]}}}};
  EvaluationRun run(
      {options.out, options.resume, identity, context, options.distribution, progress});
  double classify_seconds = 0;
  bool stop = false;
  while (!stop) {
    const std::optional<size_t> index = run.next();
    if (!index) break;
    const auto item_start = Clock::now();
    const Json record = classifyItem(items[*index], models, options);
    classify_seconds += since(item_start);
    run.append(*index, record, since(item_start));
    stop = options.cancel && options.cancel->load();
  }
  EvaluationResult result;
  std::optional<Json> gathered = run.finish(stop, result);
  if (!gathered) return result;
  Json report = std::move(*gathered);
  report["timings_s"] = {
      {"total", since(start)}, {"classify", classify_seconds}, {"cases_run", run.ran()}};
  if (run.distribution().processes() > 1)
    report["timings_s"]["processes"] = run.distribution().processes();
  writeReportFiles(options.out, report);
  result.report = std::move(report);
  return result;
}

}  // namespace gatescope
