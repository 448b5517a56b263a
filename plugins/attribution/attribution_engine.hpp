#pragma once

// Attribution maps with LibTorch's autograd (docs/attribution.md), for any network that can run
// while recording its named activations. Internal to plugins/: analysis sees only the maps.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/models/model_adapter.hpp"

namespace gatescope::attribution {

using Activations = std::vector<std::pair<std::string, torch::Tensor>>;
// Runs the network on `input` (autograd on) and returns its logits (N, classes, spatial), recording
// the activations of `layers` (in any order) into `activations`.
using CapturingForward = std::function<torch::Tensor(
    const torch::Tensor& input, const std::vector<std::string>& layers, Activations& activations)>;

// The named layers of a network with their channels and strides, measured by running it once on
// the smallest input it takes (one size multiple per axis: small 3D convolutions are slow on the
// CPU, 0.1 s at 16^3 against 0.55 s at 32^3); `run` records every named activation.
[[nodiscard]] std::vector<LayerInfo> measureLayers(
    const std::function<void(const torch::Tensor& input, Activations& activations)>& run,
    const ModelInfo& info, const torch::Device& device);

// The maps `request` asks for on `input` (1, channels, spatial, already preprocessed), one result
// per class in the request's order; classes share forwards. Layer maps are resampled to the input
// grid with align_corners=False. UsageError for a class out of range, a layer the forward did not
// record, a reference of another size, windows that do not fit.
[[nodiscard]] std::vector<AttributionResult> attribute(const CapturingForward& forward,
                                                       const torch::Tensor& input,
                                                       const AttributionRequest& request);

}  // namespace gatescope::attribution
