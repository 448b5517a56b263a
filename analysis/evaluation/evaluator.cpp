#include "analysis/evaluation/evaluator.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"
#include "analysis/core/json_number.hpp"
#include "analysis/core/sha256.hpp"
#include "analysis/datasets/dataset.hpp"
#include "analysis/evaluation/classification_evaluation.hpp"
#include "analysis/evaluation/evaluation_report.hpp"
#include "analysis/evaluation/evaluation_run.hpp"
#include "analysis/evaluation/nnunet_results.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/staged_folder.hpp"
#include "analysis/metrics/metric_suite.hpp"
#include "analysis/models/model_manifest.hpp"
#include "analysis/models/prediction_files.hpp"
#include "analysis/models/prediction_folder.hpp"
#include "analysis/plugin/registry.hpp"
#include "analysis/version.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace gatescope {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;
using Clock = std::chrono::steady_clock;

namespace {

// OpenMP's threads (the fuzz build compiles without OpenMP: one).
int ompThreads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

void setOmpThreads([[maybe_unused]] int threads) {
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
}

double since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

struct LoadedModel {
  std::string key;  // "A", "B"
  std::unique_ptr<ModelAdapter> adapter;
  Json description;
  std::vector<AttributionJob> attributions;  // one per --attribution, layers resolved
};

}  // namespace

// A prediction folder: the folder stands where a manifest would, its files' digest for weights.
Json describePredictionFolder(const PredictionFolder& folder) {
  const ModelInfo& info = folder.info();
  const std::string absolute = fs::absolute(folder.folder()).lexically_normal().string();
  Json d = {
      {"name", info.name},
      {"architecture", info.architecture},
      {"manifest", absolute},
      {"weights", absolute},
      {"weights_sha256", folder.digest()},
      {"classes", info.n_classes},
      {"gates", Json::array()},
      {"device", info.device},
      {"predictions",
       {{"cases", folder.labelFiles().size()}, {"probabilities", folder.probabilityFiles()}}}};
  if (Json nnunet = describeNnunetResults(folder.folder()); !nnunet.is_null())
    d["nnunet"] = std::move(nnunet);
  return d;
}

Json describeModel(const fs::path& path, const ModelInfo& info) {
  const fs::path absolute = fs::absolute(path);
  Json d = {
      {"name", info.name}, {"architecture", info.architecture}, {"manifest", absolute.string()}};
  if (hasExtension(path, ".json")) {
    const ModelManifest manifest = readModelManifest(path);
    d["manifest_sha256"] = sha256File(path);
    d["weights"] = manifest.weights.string();
    d["weights_sha256"] = sha256File(manifest.weights);
  } else {
    d["weights"] = absolute.string();
    d["weights_sha256"] = sha256File(path);
  }
  Json gates = Json::array();
  for (const auto& g : info.gates) gates.push_back(g.name);
  d["in_channels"] = info.in_channels;
  d["classes"] = info.n_classes;
  d["gates"] = gates;
  d["device"] = info.device;
  return d;
}

Json modelIdentity(const Json& description) {
  // cuda:0 and cuda:1 compute alike: the ranks of one job, each on its own GPU, run one evaluation.
  const std::string device = description.value("device", "");
  return {{"manifest", description["manifest"]},
          {"weights_sha256", description["weights_sha256"]},
          {"device", device.substr(0, device.find(':'))}};
}

std::string deviceDescription(const std::string& device, const Registry& registry) {
  for (const auto& runtime : registry.runtimes())
    for (const auto& described : runtime.devices)
      if (described == device || described.starts_with(device + " ")) return described;
  return device;
}

std::string torchVersion(const Registry& registry) {
  for (const auto& runtime : registry.runtimes()) return runtime.version;
  return "";
}

Json metricSettings(const MetricConfig& c) {
  return {{"preset", presetName(c.preset)},
          {"labels", c.labels ? Json(*c.labels) : Json(nullptr)},
          {"include_background", c.include_background},
          {"percentile", c.percentile},
          {"tolerances_mm", c.tolerances_mm},
          {"full_connectivity", c.full_connectivity}};
}

Json attentionSettings(const AttentionOptions& a) {
  return {{"dilation_mm", a.dilation_mm},
          {"pointing_tolerance_mm", a.pointing_tolerance_mm},
          {"threshold", a.threshold}};
}

namespace {

// What one case needs from inference: the input, the reference and each model's prediction.
struct CaseInference {
  std::string id;
  std::string error;  // the case could not be read
  Image image;
  Volume<int32_t> reference;
  struct Run {
    std::shared_ptr<PreparedImage> prepared;  // the model's preprocessing, done by the reader
    std::optional<Prediction> prediction;
    std::vector<AttributionMap> attributions;
    double attribution_seconds = 0;
    std::string error;
  };
  std::vector<Run> runs;
  double read_seconds = 0;
};

std::string messageOf(const std::exception& e) {
  std::string text = e.what();
  const auto newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

// One long-lived thread that runs jobs in submission order. (A thread per case made glibc's malloc
// spread over ever more arenas: resident memory grew by a fifth over the first few hundred cases of
// a long evaluation before it levelled off; docs/reliability.md, soak.)
class SerialWorker {
 public:
  SerialWorker() : thread_([this] { loop(); }) {}
  ~SerialWorker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }
  SerialWorker(const SerialWorker&) = delete;
  SerialWorker& operator=(const SerialWorker&) = delete;

  template <typename F>
  auto submit(F job) -> std::future<decltype(job())> {
    auto task = std::make_shared<std::packaged_task<decltype(job())()>>(std::move(job));
    auto result = task->get_future();
    {
      std::lock_guard lock(mutex_);
      jobs_.push_back([task] { (*task)(); });
    }
    wake_.notify_one();
    return result;
  }

 private:
  void loop() {
    while (true) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stopped, nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once everything it uses exists
};

// A case's input and reference, checked; the error where they cannot be read.
CaseInference readCase(const DatasetCase& c) {
  CaseInference result;
  result.id = c.id;
  const auto start = Clock::now();
  try {
    if (!c.problem.empty()) throw Error(c.problem);
    result.image = readCaseImage(c);
    checkFiniteValues(result.image, c.images.empty() ? c.id : c.images.front().string());
    if (!c.reference)
      throw Error(fmt::format(
          "no reference labels for {}: the dataset has no label file for case {} (test cases "
          "take theirs from labelsTs/ beside imagesTs/)",
          c.images.empty() ? c.id : c.images.front().string(), c.id));
    result.reference = readCaseReference(c, result.image.geometry());
  } catch (const std::exception& e) {
    result.error = messageOf(e);
    result.image = Image();
  }
  result.read_seconds = since(start);
  return result;
}

// Every model's prediction (and attribution maps) for a group of read cases: the readable cases
// of equal size in one batch per model; where a batch fails, its cases one by one, so that an
// error stays with the case that caused it.
// Each model's preprocessing of a read case, ahead of its inference (on CUDA its upload too); an
// image a model cannot take keeps the error for that model.
void prepareCase(CaseInference& c, std::vector<LoadedModel>& models,
                 const PredictOptions& predict) {
  c.runs.resize(models.size());
  if (!c.error.empty()) return;
  for (size_t m = 0; m < models.size(); ++m) {
    try {
      c.runs[m].prepared = models[m].adapter->prepare(c.image, predict);
    } catch (const std::exception& e) {
      c.runs[m].error = messageOf(e);
    }
  }
}

// Every model's prediction (and attribution maps) for a group of read cases: the cases of equal
// size in one batch per model; where a batch fails, its cases one by one, so that an error stays
// with the case that caused it.
void inferCases(std::vector<CaseInference>& group, std::vector<LoadedModel>& models,
                PredictOptions predict, const std::vector<bool>& keep_probabilities) {
  std::map<std::array<int64_t, 4>, std::vector<size_t>> sizes;
  for (size_t i = 0; i < group.size(); ++i) {
    group[i].runs.resize(models.size());
    if (!group[i].error.empty()) continue;
    const Index3 dims = group[i].image.geometry().dims;
    sizes[{dims[0], dims[1], dims[2], group[i].image.channels()}].push_back(i);
  }
  for (size_t m = 0; m < models.size(); ++m) {
    LoadedModel& model = models[m];
    // A prediction folder reads each case's file: nothing to batch.
    if (const auto* folder = dynamic_cast<const PredictionFolder*>(model.adapter.get())) {
      for (size_t i = 0; i < group.size(); ++i) {
        CaseInference& c = group[i];
        if (!c.error.empty() || !c.runs[m].error.empty()) continue;
        try {
          predict.keep_probabilities = keep_probabilities[i];
          c.runs[m].prediction = folder->predictCase(c.id, c.image, predict);
        } catch (const std::exception& e) {
          c.runs[m].error = messageOf(e);
        }
      }
      continue;
    }
    for (const auto& [size, cases] : sizes) {
      std::vector<size_t> members;
      for (const size_t i : cases)
        if (group[i].runs[m].error.empty()) members.push_back(i);
      predict.keep_probabilities = std::any_of(members.begin(), members.end(),
                                               [&](size_t i) { return keep_probabilities[i]; });
      if (members.size() > 1) {
        try {
          std::vector<const Image*> images;
          std::vector<std::shared_ptr<PreparedImage>> prepared;
          for (const size_t i : members) {
            images.push_back(&group[i].image);
            prepared.push_back(group[i].runs[m].prepared);
          }
          std::vector<Prediction> predictions =
              model.adapter->predictBatch(images, predict, prepared);
          for (size_t k = 0; k < members.size(); ++k)
            group[members[k]].runs[m].prediction = std::move(predictions[k]);
        } catch (const std::exception&) {
          // Retried one by one below.
        }
      }
      for (const size_t i : members) {
        CaseInference::Run& run = group[i].runs[m];
        try {
          if (!run.prediction) {
            predict.keep_probabilities = keep_probabilities[i];
            run.prediction = std::move(
                model.adapter->predictBatch({&group[i].image}, predict, {run.prepared}).front());
          }
          run.prepared.reset();
          const auto attribution_start = Clock::now();
          for (const AttributionJob& job : model.attributions)
            for (AttributionMap& map : attributeImage(*model.adapter, group[i].image, job))
              run.attributions.push_back(std::move(map));
          run.attribution_seconds = since(attribution_start);
        } catch (const std::exception& e) {
          run.error = messageOf(e);
        }
      }
    }
  }
}

Json attentionRecord(const Prediction& prediction, const std::map<int64_t, Volume<uint8_t>>& masks,
                     const AttentionOptions& options) {
  Json out = Json::object();
  for (const GatePrediction& gate : prediction.gates) {
    const int64_t channels = gate.resampled.channels();
    for (const auto& [label, mask] : masks) {
      const std::vector<AttentionStatistics> stats =
          attentionStatistics(gate.resampled, mask, options);
      for (int64_t ch = 0; ch < channels; ++ch) {
        const std::string name =
            channels == 1 ? gate.name : fmt::format("{}.channel_{}", gate.name, ch);
        out[name][std::to_string(label)] = toJson(stats[static_cast<size_t>(ch)]);
      }
    }
  }
  return out;
}

// Per attribution map (method@layer) and label: the attention statistics of the map made for that
// label's class.
Json attributionRecord(const std::vector<AttributionMap>& maps,
                       const std::map<int64_t, Volume<uint8_t>>& masks,
                       const AttentionOptions& options) {
  Json out = Json::object();
  for (const AttributionMap& map : maps) {
    const auto mask = masks.find(map.target_class);
    if (mask == masks.end()) continue;
    out[map.key()][std::to_string(map.target_class)] =
        toJson(attributionStatistics(map.map, mask->second, options));
  }
  return out;
}

// Whether the evaluation writes this case's predictions (--save-predictions, --save-case).
bool savesPredictions(const EvaluationOptions& options, const std::string& id) {
  return options.save_predictions &&
         (options.save_cases.empty() ||
          std::find(options.save_cases.begin(), options.save_cases.end(), id) !=
              options.save_cases.end());
}

struct Timings {
  double read = 0, inference = 0, attribution = 0, analysis = 0;
  void add(const Timings& other) {
    read += other.read;
    inference += other.inference;
    attribution += other.attribution;
    analysis += other.analysis;
  }
};

Json analyseCase(const DatasetCase& c, CaseInference& inference,
                 const std::vector<LoadedModel>& models, const std::vector<int64_t>& labels,
                 const EvaluationOptions& options, Timings& timings) {
  Json images = Json::array();
  for (const auto& path : c.images) images.push_back(path.string());
  Json record = {{"id", c.id},
                 {"split", c.split},
                 {"status", "ok"},
                 {"images", images},
                 {"reference", c.reference ? Json(c.reference->string()) : Json(nullptr)},
                 {"models", Json::object()}};
  if (!inference.error.empty()) {
    record["status"] = "error";
    record["error"] = inference.error;
    return record;
  }
  const auto start = Clock::now();
  timings.read += inference.read_seconds;
  std::map<int64_t, Volume<uint8_t>> masks;
  for (int64_t label : labels) {
    Volume<uint8_t> mask(inference.reference.geometry());
    const auto ref = inference.reference.values();
    auto out = mask.values();
    for (size_t n = 0; n < ref.size(); ++n) out[n] = ref[n] == label ? 1 : 0;
    masks.emplace(label, std::move(mask));
  }
  std::string first_error;
  for (size_t m = 0; m < models.size(); ++m) {
    const LoadedModel& model = models[m];
    CaseInference::Run& run = inference.runs[m];
    Json entry;
    try {
      if (!run.error.empty()) throw Error(run.error);
      const Prediction& p = *run.prediction;
      timings.inference += p.seconds;
      const std::string reference_name = c.reference->string();
      const std::vector<LabelMetrics> measured = computeMetrics(
          makeImage(Volume<int32_t>(inference.reference)), makeImage(Volume<uint8_t>(p.labels)),
          options.metrics, reference_name, "the prediction of model " + model.key);
      Json per_label = Json::object();
      for (const LabelMetrics& lm : measured)
        per_label[std::to_string(lm.label)] = toJson(lm, options.metrics);
      entry = {{"status", "ok"}, {"labels", per_label}};
      const Json attention = attentionRecord(p, masks, options.attention);
      if (!attention.empty()) entry["attention"] = attention;
      const Json attribution = attributionRecord(run.attributions, masks, options.attention);
      if (!attribution.empty()) entry["attribution"] = attribution;
      timings.attribution += run.attribution_seconds;
      entry["seconds"] = p.seconds;
      if (!run.attributions.empty()) entry["attribution_seconds"] = run.attribution_seconds;
      if (savesPredictions(options, c.id)) {
        StagedFolder folder(options.out / "predictions" / model.key / c.id);
        (void)writePredictionFiles(folder, "", p, inference.image.header);
        if (!run.attributions.empty())
          (void)writeAttributionFiles(folder, "", run.attributions, inference.image.header);
        folder.commit();
      }
    } catch (const std::exception& e) {
      entry = {{"status", "error"}, {"error", messageOf(e)}};
      if (first_error.empty()) first_error = "model " + model.key + ": " + messageOf(e);
    }
    record["models"][model.key] = std::move(entry);
  }
  if (!first_error.empty()) {
    record["status"] = "error";
    record["error"] = first_error;
  }
  timings.analysis += since(start);
  return record;
}

std::vector<int64_t> evaluatedLabels(const Dataset& dataset, const ModelInfo& info) {
  std::vector<int64_t> labels;
  for (const auto& [value, name] : dataset.labels)
    if (value != 0) labels.push_back(value);
  if (labels.empty())
    for (const auto& [value, name] : info.labels)
      if (value != 0) labels.push_back(value);
  if (labels.empty())
    for (int value = 1; value < info.n_classes; ++value) labels.push_back(value);
  return labels;
}

}  // namespace

Json reportPreamble() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char created[32];
  std::strftime(created, sizeof created, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return {{"schema", "gatescope.report/1"}, {"gatescope_version", kVersion}, {"created", created}};
}

EvaluationResult evaluate(const EvaluationOptions& options, Registry& registry,
                          const EvaluationCallback& progress) {
  if (!options.models.empty() && isClassifierModelFile(options.models.front()))
    return evaluateClassification(options, registry, progress);
  const auto start = Clock::now();
  if (options.models.empty() || options.models.size() > 2)
    throw UsageError("evaluate takes one or two models");
  for (const auto& path : options.models)
    if (!fs::exists(path)) throw UsageError(path.string() + ": no such model file");
  // Model A decides the task; a TorchScript export says whether it classifies once loaded.
  std::vector<std::unique_ptr<ModelAdapter>> adapters;
  for (const auto& path : options.models)
    adapters.push_back(registry.loadModel(path, LoadOptions{options.device}));
  if (adapters.front()->info().task == "classification") {
    adapters.clear();
    return evaluateClassification(options, registry, progress);
  }
  const Dataset dataset = openDataset(options.dataset);
  const std::string split = resolveSplit(dataset, options.split);
  std::vector<DatasetCase> cases = selectSplit(dataset, split);
  if (options.limit && *options.limit < cases.size()) cases.resize(*options.limit);

  std::vector<LoadedModel> models;
  const char* keys[] = {"A", "B"};
  for (size_t m = 0; m < options.models.size(); ++m) {
    LoadedModel model{keys[m], std::move(adapters[m]), {}, {}};
    auto* folder = dynamic_cast<PredictionFolder*>(model.adapter.get());
    if (folder) {
      folder->useLabels(dataset.labels);
      if (m < options.model_names.size() && !options.model_names[m].empty())
        folder->rename(options.model_names[m]);
    }
    const ModelInfo& info = model.adapter->info();
    if (info.task != "segmentation")
      throw UsageError(fmt::format("{}: {} is a classifier; model A segments, so both must",
                                   options.models[m].string(), info.architecture));
    if (!folder && dataset.layout == "msd" && dataset.channels != info.in_channels)
      throw UsageError(fmt::format(
          "{}: the model takes {} input channel(s), the dataset {} declares {}",
          options.models[m].string(), info.in_channels, dataset.root.string(), dataset.channels));
    if (!folder && !options.predict.window.empty()) checkWindow(options.predict.window, info);
    model.description =
        folder ? describePredictionFolder(*folder) : describeModel(options.models[m], info);
    models.push_back(std::move(model));
  }
  MetricConfig metrics = options.metrics;
  if (!metrics.labels) metrics.labels = evaluatedLabels(dataset, models.front().adapter->info());
  Json attribution_settings = Json::array();
  for (auto& model : models) {
    const ModelInfo& info = model.adapter->info();
    // A prediction folder has no network to explain (the report's settings list no map for it).
    if (info.architecture == kPredictionFolderArchitecture) continue;
    for (const AttributionSpec& spec : options.attributions) {
      AttributionJob job;
      job.methods = {spec.method};
      if (isLayerMethod(spec.method))
        job.layers = resolveAttributionLayers(*model.adapter, spec.layers);
      for (const int64_t label : *metrics.labels)
        if (label > 0 && label < info.n_classes) job.classes.push_back(label);
      job.steps = options.attribution_steps;
      job.patch = options.occlusion_patch;
      job.stride = options.occlusion_stride;
      job.window = options.predict.window;
      job.overlap = options.predict.overlap;
      if (job.classes.empty()) continue;
      attribution_settings.push_back({{"model", model.key},
                                      {"method", attributionMethodName(spec.method)},
                                      {"layers", job.layers},
                                      {"classes", job.classes}});
      model.attributions.push_back(std::move(job));
    }
  }
  EvaluationOptions run_options = options;
  run_options.metrics = metrics;
  run_options.predict.capture_gates = true;

  Json model_descriptions = Json::object();
  Json identity = {{"dataset", fs::absolute(dataset.root).string()}, {"split", split}};
  for (const auto& model : models) {
    model_descriptions[model.key] = model.description;
    identity["models"][model.key] = modelIdentity(model.description);
  }
  identity["metrics"] = metricSettings(metrics);
  identity["attention"] = attentionSettings(options.attention);
  identity["predict"] = {{"window", options.predict.window},
                         {"overlap", options.predict.overlap},
                         {"precision", options.predict.precision}};
  // A budget decides between the whole volume and windows: part of what a run computes.
  if (options.predict.memory_budget > 0)
    identity["predict"]["memory_budget_bytes"] = options.predict.memory_budget;
  if (!options.attributions.empty())
    identity["attribution"] = {{"maps", attribution_settings},
                               {"steps", options.attribution_steps},
                               {"patch", options.occlusion_patch},
                               {"stride", options.occlusion_stride}};
  identity["save_predictions"] = options.save_predictions;
  if (!options.save_cases.empty()) identity["save_cases"] = options.save_cases;

  Json context = {{"task", "segmentation"}, {"cases", Json::array()}};
  for (const auto& c : cases) context["cases"].push_back(c.id);
  context["paired"] = pairedSettings(options.paired);
  Json& fields = context["report"];
  fields["preset"] = presetName(metrics.preset);
  // The device of the first model that runs (a prediction folder runs nowhere).
  const auto runs = std::find_if(models.begin(), models.end(), [](const LoadedModel& m) {
    return m.adapter->info().architecture != kPredictionFolderArchitecture;
  });
  const std::string device = (runs != models.end() ? *runs : models.front()).adapter->info().device;
  fields["device"] = deviceDescription(device, registry);
  fields["torch_version"] = torchVersion(registry);
  fields["models"] = model_descriptions;
  Json label_names = Json::object();
  for (const auto& [value, name] : dataset.labels) label_names[std::to_string(value)] = name;
  fields["dataset"] = {{"path", fs::absolute(dataset.root).string()},
                       {"name", dataset.name},
                       {"layout", dataset.layout},
                       {"split", split},
                       {"cases", cases.size()},
                       {"labels", label_names}};
  fields["settings"] = {{"metrics", metricSettings(metrics)},
                        {"attention", attentionSettings(options.attention)},
                        {"predict", identity["predict"]}};
  if (!options.attributions.empty()) {
    Json& attribution = fields["settings"]["attribution"];
    attribution = identity["attribution"];
    attribution["region"] = "predicted";
    attribution["statistics"] = "of each map's positive part divided by its maximum";
    if (!options.predict.window.empty())
      attribution["windows"] =
          "each window's map explains the score over the window's part of the region; maps "
          "blended with the prediction's Gaussian weights (an approximation of the whole image's)";
  }
  EvaluationRun run(
      {options.out, options.resume, identity, context, options.distribution, progress});

  // A pipeline: the reader reads the cases after next while the next ones are inferred and the
  // current ones measured and written. Each group holds up to `batch` cases.
  Timings timings;
  // The reader also does each model's preprocessing (and on CUDA the upload) - after the first
  // group's inference, which measures the models' memory (docs/scaling.md#memory-safe-inference)
  // and must have the device to itself while it does. (Declared before the workers, which may
  // still run queued jobs while this function unwinds.)
  const auto cancelled = [&] { return options.cancel && options.cancel->load(); };
  std::promise<void> first_inferred;
  const std::shared_future<void> models_measured = first_inferred.get_future().share();
  bool first_group = true;
  SerialWorker reader, inferer;
  const size_t batch = std::max<size_t>(1, options.batch);
  // On the CPU the forward takes every core; on a GPU several cases are measured at once.
  const bool on_gpu = device.starts_with("cuda");
  const size_t analysts =
      options.analysis_threads > 0
          ? options.analysis_threads
          : (on_gpu ? std::clamp<size_t>(static_cast<size_t>(ompThreads()) / 4, 1, 4) : 1);
  struct Group {
    std::vector<size_t> indices;
    std::future<std::vector<CaseInference>> inferred;
  };
  const auto launch = [&](std::vector<size_t> indices) {
    auto reads = std::make_shared<std::vector<std::future<CaseInference>>>();
    std::vector<bool> keep;
    const bool ahead = !first_group;
    for (const size_t index : indices) {
      reads->push_back(reader.submit([&, index, ahead] {
        if (cancelled()) return CaseInference{};
        CaseInference c = readCase(cases[index]);
        if (ahead) {
          models_measured.wait();
          prepareCase(c, models, run_options.predict);
        }
        return c;
      }));
      keep.push_back(savesPredictions(options, cases[index].id));
    }
    auto inferred = inferer.submit([&, reads, keep, first = first_group] {
      std::vector<CaseInference> group;
      try {
        for (auto& read : *reads) group.push_back(read.get());
        // Cancelled before it started: not run, not journaled (--resume runs it).
        if (cancelled()) group.clear();
        inferCases(group, models, run_options.predict, keep);
      } catch (...) {
        if (first) first_inferred.set_value();
        throw;
      }
      if (first) first_inferred.set_value();
      return group;
    });
    first_group = false;
    return Group{std::move(indices), std::move(inferred)};
  };
  std::deque<Group> pipeline;
  bool stop = false, exhausted = false;
  const size_t depth = options.overlap ? 2 : 1;  // groups launched beyond the one being measured
  const auto refill = [&] {
    while (!stop && !exhausted && pipeline.size() < depth) {
      std::vector<size_t> indices;
      while (indices.size() < batch)
        if (const std::optional<size_t> index = run.next())
          indices.push_back(*index);
        else
          break;
      exhausted = indices.size() < batch;
      if (!indices.empty()) pipeline.push_back(launch(std::move(indices)));
    }
  };
  // Cases measured at once: each analyst measures a case with its share of the OpenMP threads;
  // the records are journaled in the order their cases were inferred.
  struct Measuring {
    size_t index;
    std::future<std::pair<Json, Timings>> record;
  };
  std::deque<Measuring> measuring;
  auto case_start = Clock::now();
  const auto journal = [&](size_t index, const Json& record) {
    run.append(index, record, since(case_start));
    case_start = Clock::now();
  };
  const auto collect = [&](size_t keep) {
    while (measuring.size() > keep) {
      auto [record, spent] = measuring.front().record.get();
      timings.add(spent);
      journal(measuring.front().index, record);
      measuring.pop_front();
    }
  };
  const int analyst_threads = std::max(1, ompThreads() / static_cast<int>(analysts));
  std::vector<std::unique_ptr<SerialWorker>> analyst_pool;
  for (size_t a = 0; analysts > 1 && a < analysts; ++a)
    analyst_pool.push_back(std::make_unique<SerialWorker>());
  size_t next_analyst = 0;
  refill();
  while (!pipeline.empty()) {
    Group group = std::move(pipeline.front());
    pipeline.pop_front();
    std::vector<CaseInference> inferred = group.inferred.get();
    // Cancelled: the cases in progress are measured and journaled, nothing new starts.
    stop = stop || cancelled();
    if (inferred.empty()) continue;  // cancelled before its inference started
    if (options.overlap) refill();
    for (size_t k = 0; k < group.indices.size(); ++k) {
      const size_t index = group.indices[k];
      if (analyst_pool.empty()) {
        journal(index, analyseCase(cases[index], inferred[k], models, metrics.labels.value(),
                                   run_options, timings));
        continue;
      }
      auto inference = std::make_shared<CaseInference>(std::move(inferred[k]));
      SerialWorker& analyst = *analyst_pool[next_analyst++ % analyst_pool.size()];
      measuring.push_back({index, analyst.submit([&, index, inference] {
                             setOmpThreads(analyst_threads);
                             Timings spent;
                             Json record = analyseCase(cases[index], *inference, models,
                                                       metrics.labels.value(), run_options, spent);
                             return std::make_pair(std::move(record), spent);
                           })});
      collect(analyst_pool.size());
    }
    if (!options.overlap) {
      collect(0);
      refill();
    }
  }
  collect(0);
  EvaluationResult result;
  std::optional<Json> gathered = run.finish(stop, result);
  if (!gathered) return result;
  Json report = std::move(*gathered);
  // nnU-Net's own Dice and IoU beside gatescope's, where a prediction folder has its summary.json.
  addNnunetChecks(report);
  const double total = since(start);
  report["timings_s"] = {{"total", total},
                         {"read", timings.read},
                         {"inference", timings.inference},
                         {"attribution", timings.attribution},
                         {"analysis", timings.analysis},
                         {"cases_run", run.ran()}};
  if (run.distribution().processes() > 1)
    report["timings_s"]["processes"] = run.distribution().processes();
  if (batch > 1) report["timings_s"]["batch"] = batch;
  if (analysts > 1) report["timings_s"]["analysis_threads"] = analysts;
  writeReportFiles(options.out, report);
  result.report = std::move(report);
  return result;
}

}  // namespace gatescope
