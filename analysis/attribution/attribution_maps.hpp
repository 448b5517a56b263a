#pragma once

// Attribution maps of a model on an image (docs/attribution.md): the preprocessing and padding a
// prediction uses, the score's region kept off the padding, maps cropped back to the image and
// given its geometry. The maps themselves come from ModelAdapter::attribute (plugins/).
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "analysis/attention/attention_statistics.hpp"
#include "analysis/core/image.hpp"
#include "analysis/models/model_adapter.hpp"

namespace gatescope {

struct AttributionProgress {
  std::string stage;  // "gradcam class 1", "occlusion class 2", ...
  int64_t done = 0, total = 0;
};

struct AttributionJob {
  std::vector<AttributionMethod> methods;
  std::vector<std::string> layers;           // layer methods; empty: defaultAttributionLayers
  std::vector<int64_t> classes;              // empty: every foreground class, 1 .. n_classes-1
  std::string region = "predicted";          // predicted | all | reference
  std::optional<Volume<int32_t>> reference;  // region "reference": labels on the image's grid
  int steps = 32, patch = 8, stride = 4;
  // Sliding windows (empty: the whole image at once), placed as a prediction's with the same
  // window and overlap places them; the maps are then an approximation of the whole image's.
  std::vector<int64_t> window;
  double overlap = 0.5;
  std::function<void(const AttributionProgress&)> progress;
};

struct AttributionMap {
  AttributionMethod method = AttributionMethod::GradCam;
  std::string layer;  // the layer explained; "input" for input methods
  int64_t target_class = 1;
  Volume<float> map;     // on the image's grid, raw values
  Volume<float> native;  // layer methods: the layer's own grid (the voxels covering the image)
  std::string region;    // as used: predicted, all, all (prediction empty), reference
  double score = 0.0;
  std::optional<double> completeness_error;  // integrated gradients
  double seconds = 0.0;                      // of the call that made it (shared by its layers)

  // "gradcam@conv3", "integrated_gradients@input": the key in reports and file names.
  [[nodiscard]] std::string key() const;
};

// "gradcam@conv2,conv3" -> {gradcam, {conv2, conv3}}; "occlusion" -> {occlusion, {}}. UsageError
// naming `what` for an unknown method, layers on an input method, an empty layer name.
struct AttributionSpec {
  AttributionMethod method = AttributionMethod::GradCam;
  std::vector<std::string> layers;  // empty on a layer method: the model's default layers
};
[[nodiscard]] AttributionSpec parseAttributionSpec(const std::string& text,
                                                   const std::string& what);

// The layers maps are made at when none are named: the skip connections gates act on (conv2,
// conv3, conv4 where the model has them), so gated and ungated models of a family are comparable;
// otherwise every layer.
[[nodiscard]] std::vector<std::string> defaultAttributionLayers(
    const std::vector<LayerInfo>& layers);

// `asked` checked against the model's layers (UsageError naming the ones it has), or its default
// layers when empty; UsageError for a model without named layers.
[[nodiscard]] std::vector<std::string> resolveAttributionLayers(
    ModelAdapter& model, const std::vector<std::string>& asked);

// Every map the job asks for: per method, per class, per layer (classes share forwards; one
// backward serves every layer of a layer method). Layers the model does not have and classes it
// does not have are UsageErrors.
[[nodiscard]] std::vector<AttributionMap> attributeImage(ModelAdapter& model, const Image& image,
                                                         const AttributionJob& job);

// The name one class's map is shown under in figures and the workbench: "gradcam@conv3 class 2";
// and back to the key and class (nullopt for a name of another form).
[[nodiscard]] std::string classMapName(const std::string& key, int64_t target_class);
[[nodiscard]] std::optional<std::pair<std::string, int64_t>> splitClassMapName(
    const std::string& name);

// Channel `channel` of a map as evidence for its class: the positive part divided by its maximum
// (all zero without a positive value). What statistics measure and pictures show.
[[nodiscard]] Volume<float> positiveOverMaximum(const Volume<float>& map, int64_t channel = 0);

// Attention statistics (docs/metrics.md) of an attribution map: its positive part (evidence for
// the class), divided by its maximum so that the threshold statistics read as "at least that
// fraction of the strongest evidence".
[[nodiscard]] AttentionStatistics attributionStatistics(const Volume<float>& map,
                                                        const Volume<uint8_t>& reference,
                                                        const AttentionOptions& options);

}  // namespace gatescope
