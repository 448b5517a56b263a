#include "analysis/models/model_manifest.hpp"

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::set<std::string> kKnownKeys = {"name", "architecture", "tensor_dim", "weights", "in_channels",
                                          "n_classes", "feature_scale", "attention_dsample", "nonlocal_mode",
                                          "upsample_align_corners", "preprocessing", "labels"};

std::string known() {
  std::string list;
  for (const auto& k : kKnownKeys) list += (list.empty() ? "" : ", ") + k;
  return list;
}

template <typename T>
T field(const json& j, const std::string& key, const T& fallback, const std::string& source) {
  if (!j.contains(key)) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw FormatError(fmt::format("{}: \"{}\" has the wrong type ({})", source, key, j.at(key).dump()));
  }
}

}  // namespace

ModelManifest parseModelManifest(const json& j, const fs::path& path) {
  const std::string source = path.string();
  if (!j.is_object()) throw FormatError(source + ": a model manifest is a JSON object");
  for (const auto& [key, value] : j.items())
    if (!kKnownKeys.count(key))
      throw FormatError(fmt::format("{}: unknown key \"{}\" (known: {})", source, key, known()));
  ModelManifest m;
  m.source = path;
  m.architecture = field<std::string>(j, "architecture", "", source);
  if (m.architecture.empty()) throw FormatError(source + ": \"architecture\" is required");
  m.name = field<std::string>(j, "name", path.stem().string(), source);
  m.tensor_dim = field<std::string>(j, "tensor_dim", "3D", source);
  if (m.tensor_dim != "2D" && m.tensor_dim != "3D")
    throw FormatError(fmt::format("{}: \"tensor_dim\" must be \"2D\" or \"3D\", not \"{}\"", source, m.tensor_dim));
  const std::string weights = field<std::string>(j, "weights", "", source);
  if (weights.empty()) throw FormatError(source + ": \"weights\" (the checkpoint file) is required");
  m.weights = fs::path(weights).is_absolute() ? fs::path(weights) : path.parent_path() / weights;
  m.in_channels = field<int>(j, "in_channels", 1, source);
  m.n_classes = field<int>(j, "n_classes", 2, source);
  m.feature_scale = field<int>(j, "feature_scale", 4, source);
  for (const auto& [key, value] : {std::pair{"in_channels", m.in_channels}, {"n_classes", m.n_classes},
                                   {"feature_scale", m.feature_scale}})
    if (value < 1) throw FormatError(fmt::format("{}: \"{}\" must be at least 1, not {}", source, key, value));
  if (64 % m.feature_scale != 0)
    throw FormatError(fmt::format("{}: \"feature_scale\" must divide 64, not {}", source, m.feature_scale));
  const auto dsample = field<std::vector<int64_t>>(j, "attention_dsample", {2, 2, 2}, source);
  if (dsample.size() != 3 && dsample.size() != 2)
    throw FormatError(source + ": \"attention_dsample\" needs 2 or 3 values");
  for (size_t a = 0; a < 3; ++a) m.attention_dsample[a] = a < dsample.size() ? dsample[a] : 1;
  m.nonlocal_mode = field<std::string>(j, "nonlocal_mode", "concatenation", source);
  m.upsample_align_corners = field<bool>(j, "upsample_align_corners", false, source);
  if (j.contains("preprocessing")) {
    const json& p = j.at("preprocessing");
    for (const auto& [key, value] : p.items())
      if (key != "normalize" && key != "pad_to_multiple")
        throw FormatError(fmt::format("{}: unknown key \"preprocessing.{}\" (known: normalize, pad_to_multiple)", source, key));
    m.preprocessing.normalize = field<std::string>(p, "normalize", "zscore", source);
    if (m.preprocessing.normalize != "zscore" && m.preprocessing.normalize != "none")
      throw FormatError(source + ": \"preprocessing.normalize\" must be \"zscore\" or \"none\"");
    m.preprocessing.pad_to_multiple = field<int>(p, "pad_to_multiple", 16, source);
    if (m.preprocessing.pad_to_multiple < 1) throw FormatError(source + ": \"preprocessing.pad_to_multiple\" must be at least 1");
  }
  if (j.contains("labels")) {
    if (!j.at("labels").is_object()) throw FormatError(source + ": \"labels\" maps label values to names");
    for (const auto& [key, value] : j.at("labels").items()) {
      try {
        m.labels[std::stoi(key)] = value.get<std::string>();
      } catch (const std::exception&) {
        throw FormatError(fmt::format("{}: labels: \"{}\": {} is not a label value and name", source, key, value.dump()));
      }
    }
  }
  return m;
}

ModelManifest readModelManifest(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw IoError(path.string() + ": cannot open the model manifest");
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    throw FormatError(path.string() + ": not valid JSON: " + e.what());
  }
  return parseModelManifest(j, path);
}

nlohmann::ordered_json toJson(const ModelManifest& m) {
  nlohmann::ordered_json labels = nlohmann::ordered_json::object();
  for (const auto& [value, name] : m.labels) labels[std::to_string(value)] = name;
  return {{"name", m.name},
          {"architecture", m.architecture},
          {"tensor_dim", m.tensor_dim},
          {"weights", m.weights.filename().string()},
          {"in_channels", m.in_channels},
          {"n_classes", m.n_classes},
          {"feature_scale", m.feature_scale},
          {"attention_dsample", m.attention_dsample},
          {"nonlocal_mode", m.nonlocal_mode},
          {"upsample_align_corners", m.upsample_align_corners},
          {"preprocessing", {{"normalize", m.preprocessing.normalize}, {"pad_to_multiple", m.preprocessing.pad_to_multiple}}},
          {"labels", labels}};
}

}  // namespace gatescope
