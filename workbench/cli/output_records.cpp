#include "workbench/cli/output_records.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <sstream>

#include "analysis/core/error.hpp"
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

std::vector<int64_t> parseWindow(const std::string& text, int dimensions) {
  std::vector<int64_t> sizes;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    try {
      size_t used = 0;
      const long long v = std::stoll(item, &used);
      if (used != item.size() || v < 1) throw std::invalid_argument(item);
      sizes.push_back(v);
    } catch (const std::exception&) {
      throw UsageError("--window: '" + item + "' is not a positive size");
    }
  }
  if (dimensions == 2 && sizes.size() == 3 && sizes[2] == 1) sizes.pop_back();
  if (static_cast<int>(sizes.size()) != dimensions)
    throw UsageError(
        fmt::format("--window: the model is {}D, give {} sizes", dimensions, dimensions));
  return sizes;
}

}  // namespace gatescope::cli
