#include "workbench/cli/output_records.hpp"

#include <filesystem>

#include "analysis/plugin/plugin_loader.hpp"

namespace gatescope::cli {

nlohmann::ordered_json modelRecord(const ModelInfo& info, const std::string& path) {
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const auto& [value, name] : info.labels) labels[std::to_string(value)] = name;
  return {{"name", info.name},
          {"architecture", info.architecture},
          {"path", std::filesystem::absolute(path).string()},
          {"classes", info.n_classes},
          {"labels", labels}};
}

std::string runtimeName(Registry& registry) {
  std::string runtime;
  for (const auto& r : registry.runtimes()) runtime = r.name + " " + r.version;
  return runtime;
}

}  // namespace gatescope::cli
