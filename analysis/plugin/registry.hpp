#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/models/model_adapter.hpp"
#include "analysis/models/training.hpp"

namespace gatescope {

// What a compute backend (LibTorch) reports about itself and this machine.
struct RuntimeDescription {
  std::string name;                  // "LibTorch"
  std::string version;               // "1.13.0"
  std::vector<std::string> devices;  // "cpu", "cuda:0 (NVIDIA H100)"
  int threads = 1;
};

// Where plugins register what they provide, by name. The built-in LibTorch plugin registers
// through the same entry point a third-party plugin would (gatescope_register_plugin).
class Registry {
 public:
  using RuntimeProbe = std::function<RuntimeDescription()>;
  using ModelLoader = std::function<std::unique_ptr<ModelAdapter>(const std::filesystem::path&,
                                                                  const LoadOptions&)>;
  using Trainer = std::function<TrainingResult(const TrainingRequest&, const TrainingData&,
                                               const TrainingObserver&)>;

  void addRuntime(const std::string& name, RuntimeProbe probe);
  [[nodiscard]] std::vector<RuntimeDescription> runtimes() const;

  // Model loaders by file kind: "manifest" (model.json) and "torchscript" (.pt).
  void addModelLoader(const std::string& kind, ModelLoader loader);
  // Picks the loader from the file name; Error when no plugin provides it.
  [[nodiscard]] std::unique_ptr<ModelAdapter> loadModel(const std::filesystem::path& path,
                                                        const LoadOptions& options) const;

  // Training of zoo models (gatescope train); one trainer, the last registered wins.
  void setTrainer(Trainer trainer);
  // Trains request.models on `data` and writes each into request.output/<name>/; Error when no
  // plugin trains models.
  [[nodiscard]] TrainingResult train(const TrainingRequest& request, const TrainingData& data,
                                     const TrainingObserver& observer) const;

 private:
  std::map<std::string, RuntimeProbe> runtimes_;
  std::map<std::string, ModelLoader> loaders_;
  Trainer trainer_;
};

}  // namespace gatescope

// Every plugin library exports this function; the loader calls it once after dlopen.
extern "C" void gatescope_register_plugin(gatescope::Registry& registry);
