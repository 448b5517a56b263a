#pragma once

#include <array>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace gatescope {

struct Preprocessing {
  std::string normalize = "zscore";  // "zscore" (per image, per channel) or "none"
  int pad_to_multiple = 16;          // pad each spatial axis up to a multiple, crop back after
};

// model.json (docs/models.md). Relative paths resolve against the manifest's folder.
struct ModelManifest {
  std::string name;
  std::string architecture;
  std::string tensor_dim = "3D";
  std::filesystem::path weights;  // absolute after loading
  int in_channels = 1;
  int n_classes = 2;
  int feature_scale = 4;
  std::array<int64_t, 3> attention_dsample = {2, 2, 2};
  std::string nonlocal_mode = "concatenation";
  bool upsample_align_corners = false;
  // Classifiers (docs/models.md): sononet_grid_attention's heads (aggregation_mode), and how the
  // heads' softmax probabilities become one (aggregation: mean, max, weighted_mean with one weight
  // per head, or idx: the head aggregation_param alone).
  std::string aggregation_mode = "concat";
  std::string aggregation = "mean";
  std::vector<double> aggregation_weight;
  int aggregation_param = 0;
  Preprocessing preprocessing;
  std::map<int, std::string> labels;
  std::filesystem::path source;  // the manifest file itself
};

// The classifier architectures: sononet, sononet2, sononet_grid_attention; every other one
// segments.
[[nodiscard]] std::vector<std::string> classifierArchitectures();
[[nodiscard]] bool isClassifierArchitecture(const std::string& architecture);

// Reads and validates a manifest: unknown keys are an error listing the known ones, missing keys
// take the documented defaults, wrong types and values name the key. FormatError naming the file.
[[nodiscard]] ModelManifest readModelManifest(const std::filesystem::path& path);
[[nodiscard]] ModelManifest parseModelManifest(const nlohmann::json& json,
                                               const std::filesystem::path& source);
[[nodiscard]] nlohmann::ordered_json toJson(const ModelManifest& manifest);

}  // namespace gatescope
