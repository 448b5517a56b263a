// Entry point of the LibTorch plugin: registers everything this library provides.
#include "analysis/core/error.hpp"
#include "analysis/plugin/registry.hpp"
#include "plugins/runtime/torch_errors.hpp"
#include "plugins/runtime/torch_runtime.hpp"
#include "plugins/torchscript/torchscript_adapter.hpp"
#include "plugins/training/trainer.hpp"
#include "plugins/zoo/native_adapter.hpp"

extern "C" __attribute__((visibility("default"))) void gatescope_register_plugin(
    gatescope::Registry& registry) {
  gatescope::initializeTorchRuntime();
  registry.addRuntime("libtorch", [] {
    const auto info = gatescope::torchRuntimeInfo();
    gatescope::RuntimeDescription description{
        "LibTorch", info.torch_version, {"cpu"}, info.intra_op_threads};
    for (int d = 0; d < info.cuda_device_count; ++d)
      description.devices.push_back("cuda:" + std::to_string(d) + " (" +
                                    info.cuda_device_names[static_cast<size_t>(d)] + ")");
    return description;
  });
  // No LibTorch error leaves the plugin: loading and running a model give one-line errors naming
  // the model file.
  const auto guarded = [](auto load) {
    return [load](const std::filesystem::path& path, const gatescope::LoadOptions& options) {
      try {
        return gatescope::guardTorchErrors(load(path, options), path);
      } catch (const c10::Error& e) {
        throw gatescope::FormatError(path.string() + ": " + gatescope::torchErrorLine(e));
      }
    };
  };
  registry.addModelLoader("manifest", guarded(gatescope::loadNativeModel));
  registry.addModelLoader("torchscript", guarded(gatescope::loadTorchScriptModel));
  registry.setTrainer(gatescope::trainZooModels);
}
