#include "workbench/app/image_inspection.hpp"

#include <fmt/format.h>

#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/io/image_file.hpp"
#include "analysis/metrics/label_metrics.hpp"
#include "analysis/metrics/metric_suite.hpp"
#include "analysis/models/prediction_folder.hpp"
#include "analysis/plugin/registry.hpp"

namespace gatescope::workbench {

ImageInspection inspectImage(const ImageInspectionRequest& request, Registry& registry,
                             const std::function<void(const std::string&)>& progress) {
  const auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  if (request.models.empty())
    throw UsageError("give model A (a manifest .json, TorchScript .pt or a folder of predictions)");
  if (request.models.size() > 2) throw UsageError("at most two models: A and B");
  say("reading " + request.image.string());
  const Image image = readImage(request.image);
  checkFiniteValues(image, request.image.string());
  ImageInspection result;
  CaseVolumes& volumes = result.loaded.volumes;
  volumes.id = stripImageExtension(request.image);
  volumes.image = toFloatVolume(image);
  if (!request.reference.empty()) {
    Volume<int32_t> reference =
        toLabelVolume(readImage(request.reference), request.reference.string());
    if (!reference.geometry().sameGrid(volumes.image.geometry()))
      throw GeometryError(fmt::format("{}: lies on {}, but the image {} lies on {}",
                                      request.reference.string(), reference.geometry().describe(),
                                      request.image.string(), volumes.image.geometry().describe()));
    volumes.reference = std::move(reference);
  }
  const char* keys[] = {"A", "B"};
  for (size_t m = 0; m < request.models.size(); ++m) {
    say(fmt::format("loading model {} ({})", keys[m], request.models[m].string()));
    auto model = registry.loadModel(request.models[m], LoadOptions{request.device});
    const ModelInfo& info = model->info();
    for (const auto& [value, name] : info.labels) result.loaded.label_names.emplace(value, name);
    say(fmt::format("running {} on {} ({})", info.name, request.image.filename().string(),
                    info.device));
    PredictOptions options;
    options.capture_gates = true;
    // A folder of predictions holds this image's by its case id (the file name).
    Prediction prediction = predictForCase(*model, volumes.id, image, options);
    ModelOutputs outputs;
    outputs.name = fmt::format("{}: {}", keys[m], info.name);
    outputs.prediction = convertVolume<int32_t>(prediction.labels);
    outputs.probabilities = std::move(prediction.probabilities);
    for (auto& gate : prediction.gates) {
      outputs.gates.emplace_back(gate.name, std::move(gate.resampled));
      outputs.native_gates.emplace_back(gate.name, std::move(gate.native));
    }
    if (volumes.reference) {
      say(fmt::format("measuring model {}", keys[m]));
      const MetricConfig config;
      nlohmann::ordered_json per_label = nlohmann::ordered_json::object();
      for (const LabelMetrics& lm : computeMetrics(
               makeImage(Volume<int32_t>(*volumes.reference)),
               makeImage(Volume<int32_t>(*outputs.prediction)), config, request.reference.string(),
               "the prediction of model " + std::string(keys[m])))
        per_label[std::to_string(lm.label)] = toJson(lm, config);
      result.metrics.push_back(std::move(per_label));
    }
    result.loaded.models.push_back(std::move(outputs));
  }
  return result;
}

}  // namespace gatescope::workbench
