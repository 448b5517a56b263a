#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/core/image.hpp"
#include "analysis/models/model_manifest.hpp"

namespace gatescope {

// A dense float tensor as plain data, C order; network tensors are (N, C, i, j[, k]).
struct TensorData {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

struct GateInfo {
  std::string name;  // module name: attentionblock2, ...
  std::array<int64_t, 3>
      stride;  // of the gate's map (its skip connection's grid) relative to the input grid;
               // 0 where a TorchScript export does not declare it (taken from the map)
  std::array<int64_t, 3> coarse_stride = {0, 0,
                                          0};  // of its compatibility grid; 0: the model has none
};

struct ModelInfo {
  std::string name;
  std::string architecture;
  int dimensions = 3;
  int in_channels = 1;
  int n_classes = 2;
  std::vector<GateInfo> gates;
  std::map<int, std::string> labels;
  Preprocessing preprocessing;
  std::array<int64_t, 3> size_multiple = {16, 16, 16};  // every input axis is padded to a multiple
  std::string device;                                   // where it runs: "cpu", "cuda:0"
  std::string source;  // the file it was loaded from (model.json or the TorchScript file)
};

struct ForwardResult {
  TensorData logits;
  std::vector<std::pair<std::string, TensorData>>
      gates;  // each gate's map at its own (skip) resolution
  std::vector<std::pair<std::string, TensorData>>
      coarse;  // compatibility grids, where the model has them
};

struct LoadOptions {
  std::string device = "auto";  // auto | cpu | cuda | cuda:N
};

struct PredictOptions {
  bool capture_gates = true;
  bool capture_coarse = false;     // also each gate's compatibility grid (GatePrediction::coarse)
  std::vector<int64_t> window;     // sliding-window size per axis; empty: the whole volume at once
  double overlap = 0.5;            // fraction of a window shared with its neighbour
  std::string precision = "fp32";  // fp32, or fp16 / bf16 autocast (CUDA only)
};

// A gate's map is what the gate multiplies into its skip connection (docs/models.md).
struct GatePrediction {
  std::string name;
  Volume<float>
      native;  // the gate's own grid (its skip connection's), with its own spacing and origin
  Volume<float> resampled;  // on the input image's grid, interpolated from `native`
  Volume<float> coarse;     // the compatibility grid before upsampling; empty unless asked for
};

struct Prediction {
  Volume<float> probabilities;  // softmax over classes, one channel per class, input grid
  Volume<uint8_t> labels;       // argmax
  std::vector<GatePrediction> gates;
  double seconds = 0.0;       // the whole prediction
  double gate_seconds = 0.0;  // of which: gate maps converted and resampled to the input grid
};

// A model gatescope can run: the native zoo (model.json) or a TorchScript export. Implementations
// live in plugins/ and are created through the plugin registry.
class ModelAdapter {
 public:
  virtual ~ModelAdapter() = default;
  [[nodiscard]] virtual const ModelInfo& info() const = 0;
  // The bare network on an already preprocessed input: logits and gates (for cross-checks).
  [[nodiscard]] virtual ForwardResult forward(const TensorData& input, bool capture_gates) = 0;
  // Preprocessing, inference, softmax and argmax, gates resampled to the image grid.
  [[nodiscard]] virtual Prediction predict(const Image& image, const PredictOptions& options) = 0;
};

}  // namespace gatescope
