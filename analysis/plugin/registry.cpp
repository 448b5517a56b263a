#include "analysis/plugin/registry.hpp"

#include "analysis/core/error.hpp"
#include "analysis/models/prediction_folder.hpp"

namespace gatescope {

void Registry::addRuntime(const std::string& name, RuntimeProbe probe) {
  runtimes_[name] = std::move(probe);
}

std::vector<RuntimeDescription> Registry::runtimes() const {
  std::vector<RuntimeDescription> out;
  for (const auto& [name, probe] : runtimes_) out.push_back(probe());
  return out;
}

void Registry::addModelLoader(const std::string& kind, ModelLoader loader) {
  loaders_[kind] = std::move(loader);
}

std::unique_ptr<ModelAdapter> Registry::loadModel(const std::filesystem::path& path,
                                                  const LoadOptions& options) const {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::make_unique<PredictionFolder>(path);
  const std::string name = path.filename().string();
  const std::string kind = name.ends_with(".json")                          ? "manifest"
                           : name.ends_with(".pt") || name.ends_with(".ts") ? "torchscript"
                                                                            : "";
  if (kind.empty())
    throw UsageError(path.string() +
                     ": a model is a manifest (.json), a TorchScript file (.pt) or a folder of "
                     "predictions");
  const auto it = loaders_.find(kind);
  if (it == loaders_.end())
    throw Error(path.string() + ": no plugin loads " + kind +
                " models (is libgatescope_torch_plugin.so installed?)");
  return it->second(path, options);
}

void Registry::setTrainer(Trainer trainer) {
  trainer_ = std::move(trainer);
}

TrainingResult Registry::train(const TrainingRequest& request, const TrainingData& data,
                               const TrainingObserver& observer) const {
  if (!trainer_)
    throw Error(request.config.source.string() +
                ": no plugin trains models (is libgatescope_torch_plugin.so installed?)");
  return trainer_(request, data, observer);
}

}  // namespace gatescope
