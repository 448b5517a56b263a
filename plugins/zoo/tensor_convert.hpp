#pragma once

#include <torch/torch.h>

#include "analysis/models/model_adapter.hpp"
#include "plugins/zoo/networks.hpp"

namespace gatescope {

[[nodiscard]] torch::Tensor toTensor(const TensorData& data);
[[nodiscard]] TensorData toTensorData(const torch::Tensor& tensor);

// A volume as a network input (1, C, i, j[, k]) after the manifest's preprocessing, padded at
// the end of every axis to the required multiple.
struct PreparedInput {
  torch::Tensor tensor;
  Index3 original;  // image dims
  Index3 padded;
};
[[nodiscard]] PreparedInput prepareInput(const Volume<float>& image, const ModelInfo& info);

// Softmax probabilities, argmax labels and gate maps (native and on the image grid), cropped back
// to the image and given its geometry.
[[nodiscard]] Prediction finishPrediction(const zoo::NetworkOutput& out, const PreparedInput& input,
                                          const Geometry& geometry, bool align_corners);

}  // namespace gatescope
