#pragma once

#include <c10/core/Event.h>
#include <torch/torch.h>

#include <functional>
#include <memory>

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
// Without padding when `for_windows` (windows are padded by the sliding-window loop). On CUDA the
// tensor is made on the device.
[[nodiscard]] PreparedInput prepareInput(const Volume<float>& image, const ModelInfo& info,
                                         bool for_windows = false,
                                         const torch::Device& device = torch::kCPU);

// An image made ready for a network ahead of its forward (ModelAdapter::prepare): checked,
// converted and normalised; for the CPU in the network's layout, for CUDA as the volume lies in
// page-locked memory and, where uploaded ahead, also on the device in the network's layout,
// copied on a stream of its own.
struct TorchPreparedImage : PreparedImage {
  Geometry geometry;
  int dimensions = 3;
  torch::Tensor host;          // (C, i, j[, k]); with volume_layout (C, k, j, i), page-locked
  bool volume_layout = false;  // on CUDA
  torch::Tensor device;        // (C, i, j[, k]) on the device once uploaded ahead
  std::shared_ptr<c10::Event> ready;  // recorded on the copy stream after the upload
};
// `real` checked and converted already; `upload`: copy it up now, on a stream of its own.
[[nodiscard]] std::shared_ptr<TorchPreparedImage> prepareImage(Volume<float> real,
                                                               const ModelInfo& info,
                                                               const torch::Device& device,
                                                               bool upload);
// The network input from a prepared image on `target` (the device, or the CPU for buffers in host
// memory), padded as prepareInput pads; an upload ahead is waited for on the current stream.
[[nodiscard]] PreparedInput networkInput(const TorchPreparedImage& image, const ModelInfo& info,
                                         bool for_windows, const torch::Device& target);
// What ModelAdapter::prepare does for a segmentation network: on CUDA the upload ahead where
// the memory plan cannot need the memory (no budget, no host buffers, a small input).
[[nodiscard]] std::shared_ptr<PreparedImage> prepareAhead(const Image& image,
                                                          const PredictOptions& options,
                                                          const ModelInfo& info,
                                                          const torch::Device& device);

// Gate maps from outputs over a padded grid (gates (1, C, padded / stride)): at their own grids
// and resampled to the image's (bilinear / trilinear with `align_corners`), cropped to the image
// and given its geometry.
[[nodiscard]] std::vector<GatePrediction> gatePredictions(const std::vector<zoo::GateOutput>& gates,
                                                          const std::vector<int64_t>& padded,
                                                          const Index3& original,
                                                          const Geometry& geometry,
                                                          bool align_corners);

// Probabilities, argmax labels and gate maps (native and on the image grid) from outputs over a
// padded grid (probabilities (1, classes, padded); gates (1, C, padded / stride)), cropped back to
// the image and given its geometry. Without `keep_probabilities` only the labels and gate maps
// leave the device. Error naming `source` for non-finite probabilities.
[[nodiscard]] Prediction finishPrediction(const torch::Tensor& probabilities,
                                          const std::vector<zoo::GateOutput>& gates,
                                          const std::vector<int64_t>& padded,
                                          const Index3& original, const Geometry& geometry,
                                          bool align_corners, bool keep_probabilities,
                                          const std::string& source);

// The whole prediction for any network: preprocessing, one pass or sliding windows, softmax,
// argmax and gate maps. `run` executes the network on a (1, C, spatial) tensor on `device`.
using NetworkRunner =
    std::function<zoo::NetworkOutput(const torch::Tensor& input, bool capture_gates)>;
[[nodiscard]] Prediction runPrediction(const NetworkRunner& run, const Image& image,
                                       const PredictOptions& options, const ModelInfo& info,
                                       bool align_corners, const torch::Device& device);

// Images of equal size in one forward (ModelAdapter::predictBatch), each as prepared ahead where
// `ahead` holds it; one at a time where they differ in size, or the batch would need windows or
// more than the memory budget.
[[nodiscard]] std::vector<Prediction> runPredictionBatch(
    const NetworkRunner& run, const std::vector<const Image*>& images,
    const std::vector<std::shared_ptr<PreparedImage>>& ahead, const PredictOptions& options,
    const ModelInfo& info, bool align_corners, const torch::Device& device);

// A classifier's answer for any network (docs/classification.md): the image made the model's
// channels and normalised, never padded; a PNG given to the network as (row, column), as Python
// holds a picture, a NIfTI as (i, j); per head of `run`'s NetworkOutput::heads its softmax, the
// heads made one by `aggregate`, the most probable class, and the gate maps back on the image's
// grid. Error naming `source` for non-finite logits.
using HeadAggregator =
    std::function<std::vector<double>(const std::vector<std::vector<double>>& head_probabilities)>;
[[nodiscard]] Classification runClassification(const NetworkRunner& run, const Image& image,
                                               bool capture_gates, const ModelInfo& info,
                                               const HeadAggregator& aggregate,
                                               const torch::Device& device,
                                               const std::string& source);

}  // namespace gatescope
