#pragma once

#include <array>
#include <string>

#include "analysis/models/model_manifest.hpp"

namespace gatescope {

// What selects and shapes a native network (the manifest's model fields).
struct ZooConfig {
  std::string architecture = "unet_ct_single_att_dsv";
  int dimensions = 3;  // 2 or 3 ("tensor_dim": "2D" / "3D")
  int in_channels = 1;
  int n_classes = 2;
  int feature_scale = 4;
  std::array<int64_t, 3> attention_dsample = {2, 2, 2};
  // "concatenation" or "concatenation_debug"; the classifiers' gates also take
  // concatenation_softmax, _sigmoid, _mean, _mean_flow and _range_normalise.
  std::string nonlocal_mode = "concatenation";
  std::string aggregation_mode = "concat";  // sononet_grid_attention: concat, mean, deep_sup, ft
  bool upsample_align_corners = false;
};

[[nodiscard]] inline ZooConfig zooConfigFor(const ModelManifest& manifest) {
  ZooConfig config;
  config.architecture = manifest.architecture;
  config.dimensions = manifest.tensor_dim == "2D" ? 2 : 3;
  config.in_channels = manifest.in_channels;
  config.n_classes = manifest.n_classes;
  config.feature_scale = manifest.feature_scale;
  config.attention_dsample = manifest.attention_dsample;
  config.nonlocal_mode = manifest.nonlocal_mode;
  config.upsample_align_corners = manifest.upsample_align_corners;
  config.aggregation_mode = manifest.aggregation_mode;
  return config;
}

}  // namespace gatescope
