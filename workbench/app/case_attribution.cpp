#include "workbench/app/case_attribution.hpp"

#include <fmt/format.h>

#include "analysis/attribution/attribution_maps.hpp"
#include "analysis/core/error.hpp"
#include "analysis/core/image.hpp"
#include "analysis/plugin/registry.hpp"

namespace gatescope::workbench {

namespace fs = std::filesystem;

std::vector<CaseAttribution> attributeCase(
    const CaseAttributionRequest& request, Registry& registry,
    const std::function<void(double fraction, const std::string& line)>& progress) {
  const auto say = [&](double fraction, const std::string& line) {
    if (request.cancel && request.cancel->load()) throw Error("cancelled");
    if (progress) progress(fraction, line);
  };
  if (request.models.empty()) throw UsageError("no model to explain");
  const Image image = makeImage(Volume<float>(request.image));
  std::vector<CaseAttribution> out;
  const char* keys[] = {"A", "B"};
  for (const auto& [index, file] : request.models) {
    const char* key = keys[index == 0 ? 0 : 1];
    say(-1.0, fmt::format("loading model {} ({})", key, file.string()));
    auto model = registry.loadModel(file, LoadOptions{request.device});
    AttributionJob job;
    job.methods = {request.method};
    job.layers = request.layers;
    job.classes = {request.target_class};
    job.progress = [&](const AttributionProgress& p) {
      say(p.total > 0 ? static_cast<double>(p.done) / static_cast<double>(p.total) : -1.0,
          fmt::format("model {}: {} {}/{}", key, p.stage, p.done, p.total));
    };
    say(-1.0,
        fmt::format("model {}: {} of class {} on {}", key, attributionMethodName(request.method),
                    request.target_class, model->info().device));
    CaseAttribution result{index, {}};
    for (const AttributionMap& m : attributeImage(*model, image, job))
      result.maps.emplace_back(classMapName(m.key(), m.target_class), positiveOverMaximum(m.map));
    out.push_back(std::move(result));
  }
  return out;
}

fs::path locateModelFile(const std::string& recorded, const fs::path& evaluation) {
  const fs::path path = recorded;
  if (path.empty()) throw IoError("the report records no model file");
  if (fs::exists(path)) return path;
  if (path.is_relative())
    for (const fs::path& base : {evaluation, evaluation.parent_path()})
      if (fs::exists(base / path)) return base / path;
  throw IoError(recorded + ": the model file the report records is not there");
}

}  // namespace gatescope::workbench
