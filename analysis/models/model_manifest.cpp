#include "analysis/models/model_manifest.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"
#include "analysis/io/json_file.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using json = nlohmann::json;

// Limits that keep a typo from allocating terabytes: labels are stored as uint8.
constexpr int64_t kMaxClasses = 256;
constexpr int64_t kMaxChannels = 4096;
constexpr int64_t kMaxSubSample = 64;

ModelManifest parseModelManifest(const json& j, const fs::path& path) {
  const std::string source = path.string();
  const JsonFields f(j, source);
  f.onlyKeys({"name", "architecture", "tensor_dim", "weights", "in_channels", "n_classes",
              "feature_scale", "attention_dsample", "nonlocal_mode", "upsample_align_corners",
              "preprocessing", "labels", "aggregation_mode", "aggregation", "aggregation_weight",
              "aggregation_param"});
  ModelManifest m;
  m.source = path;
  m.architecture = f.string("architecture");
  if (m.architecture.empty()) f.fail("architecture", "must name an architecture");
  m.name = f.string("name", path.stem().string());
  m.tensor_dim = f.string("tensor_dim", "3D");
  if (m.tensor_dim != "2D" && m.tensor_dim != "3D")
    f.fail("tensor_dim", "must be \"2D\" or \"3D\"");
  const std::string weights = f.string("weights");
  if (weights.empty()) f.fail("weights", "must name the checkpoint file");
  m.weights = fs::path(weights).is_absolute() ? fs::path(weights) : path.parent_path() / weights;
  m.in_channels = static_cast<int>(f.integer("in_channels", 1, kMaxChannels, 1));
  m.n_classes = static_cast<int>(f.integer("n_classes", 1, kMaxClasses, 2));
  m.feature_scale = static_cast<int>(f.integer("feature_scale", 1, 64, 4));
  if (64 % m.feature_scale != 0)
    f.fail("feature_scale", fmt::format("must divide 64, not {}", m.feature_scale));
  const auto dsample =
      f.integers("attention_dsample", 1, kMaxSubSample, 2, 3, std::vector<int64_t>{2, 2, 2});
  for (size_t a = 0; a < 3; ++a) m.attention_dsample[a] = a < dsample.size() ? dsample[a] : 1;
  m.nonlocal_mode = f.string("nonlocal_mode", "concatenation");
  m.upsample_align_corners = f.boolean("upsample_align_corners", false);
  m.aggregation_mode = f.string("aggregation_mode", "concat");
  m.aggregation = f.string("aggregation", "mean");
  if (m.aggregation != "mean" && m.aggregation != "max" && m.aggregation != "weighted_mean" &&
      m.aggregation != "idx")
    f.fail("aggregation", "must be \"mean\", \"max\", \"weighted_mean\" or \"idx\"");
  if (f.has("aggregation_weight")) {
    const json& weights = f.at("aggregation_weight");
    if (!weights.is_array() || weights.empty() || weights.size() > 16)
      f.fail("aggregation_weight", "must be a list of 1 to 16 numbers, one per head");
    for (const auto& w : weights) {
      if (!w.is_number() || !std::isfinite(w.get<double>()))
        f.fail("aggregation_weight", "must be a list of finite numbers, one per head");
      m.aggregation_weight.push_back(w.get<double>());
    }
  }
  if (m.aggregation == "weighted_mean" && m.aggregation_weight.empty())
    f.fail("aggregation_weight", "is required for \"aggregation\": \"weighted_mean\"");
  m.aggregation_param = static_cast<int>(f.integer("aggregation_param", 0, 15, 0));
  if (f.has("preprocessing")) {
    const JsonFields p = f.object("preprocessing");
    p.onlyKeys({"normalize", "pad_to_multiple"});
    m.preprocessing.normalize = p.string("normalize", "zscore");
    if (m.preprocessing.normalize != "zscore" && m.preprocessing.normalize != "none")
      p.fail("normalize", "must be \"zscore\" or \"none\"");
    m.preprocessing.pad_to_multiple = static_cast<int>(p.integer("pad_to_multiple", 1, 4096, 16));
  }
  if (f.has("labels")) {
    const JsonFields labels = f.object("labels");
    for (const auto& [key, value] : labels.raw().items()) {
      const bool digits =
          !key.empty() && key.size() < 4 &&
          std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!digits || std::stoi(key) >= kMaxClasses)
        labels.fail(key, fmt::format("is not a label value (0 to {})", kMaxClasses - 1));
      m.labels[std::stoi(key)] = labels.string(key);
    }
  }
  return m;
}

std::vector<std::string> classifierArchitectures() {
  return {"sononet", "sononet2", "sononet_grid_attention"};
}

bool isClassifierArchitecture(const std::string& architecture) {
  const auto all = classifierArchitectures();
  return std::find(all.begin(), all.end(), architecture) != all.end();
}

ModelManifest readModelManifest(const fs::path& path) {
  return parseModelManifest(readJsonFile(path, "model manifest"), path);
}

nlohmann::ordered_json toJson(const ModelManifest& m) {
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const auto& [value, name] : m.labels) labels[std::to_string(value)] = name;
  nlohmann::ordered_json j = {{"name", m.name},
                              {"architecture", m.architecture},
                              {"tensor_dim", m.tensor_dim},
                              {"weights", m.weights.filename().string()},
                              {"in_channels", m.in_channels},
                              {"n_classes", m.n_classes},
                              {"feature_scale", m.feature_scale},
                              {"attention_dsample", m.attention_dsample},
                              {"nonlocal_mode", m.nonlocal_mode},
                              {"upsample_align_corners", m.upsample_align_corners},
                              {"preprocessing",
                               {{"normalize", m.preprocessing.normalize},
                                {"pad_to_multiple", m.preprocessing.pad_to_multiple}}},
                              {"labels", labels}};
  if (isClassifierArchitecture(m.architecture)) {
    j["aggregation_mode"] = m.aggregation_mode;
    j["aggregation"] = m.aggregation;
    if (!m.aggregation_weight.empty()) j["aggregation_weight"] = m.aggregation_weight;
    j["aggregation_param"] = m.aggregation_param;
  }
  return j;
}

}  // namespace gatescope
