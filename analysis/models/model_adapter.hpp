#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
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
  std::string task = "segmentation";  // or "classification"
  std::vector<std::string> heads;     // classifiers: the heads ForwardResult::heads holds, in order
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
  TensorData logits;  // segmentation: (N, classes, spatial); classifiers: empty
  // Classifiers: per head (ModelInfo::heads) its (N, classes) logits.
  std::vector<std::pair<std::string, TensorData>> heads;
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
  // Memory-safe inference (docs/scaling.md#memory-safe-inference): the device bytes a prediction
  // may use (0: on CUDA what the device has free, on the CPU no limit), and where sliding windows'
  // blended outputs live: "auto" (the device unless they take more than half the budget),
  // "device" or "host". A volume whose forward does not fit runs in sliding windows.
  int64_t memory_budget = 0;
  std::string window_buffers = "auto";
  // false: the class probabilities stay on the device and Prediction::probabilities is empty; only
  // the labels and gate maps come back (an evaluation that saves no predictions never reads them).
  bool keep_probabilities = true;
};

// How a prediction used the device's memory: planned when a budget applied (CUDA, or
// PredictOptions::memory_budget), else only the plan ("whole" or "windows").
struct MemoryUse {
  bool planned = false;
  int64_t budget = 0;          // bytes
  int64_t estimated_peak = 0;  // bytes the plan was expected to need
  int64_t measured_peak = -1;  // bytes allocated at the peak (-1: not measured)
  std::string plan = "whole";  // or "windows"
  std::vector<int64_t> window;
  std::string buffers = "device";  // or "host"
};

// An image made ready for a model's forward ahead of it (ModelAdapter::prepare); what it holds
// belongs to the model's runtime.
class PreparedImage {
 public:
  virtual ~PreparedImage() = default;
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
  MemoryUse memory;
};

// What every model checks an image for before preprocessing: its channel count, a single slice
// for a 2D model (UsageError), finite values (FormatError).
void checkModelInput(const Volume<float>& image, const ModelInfo& info);

// The grid a network runs an image of `dims` on: each axis padded at its end to a multiple of the
// preprocessing's pad_to_multiple and the network's size_multiple.
[[nodiscard]] Index3 paddedDims(const Index3& dims, const ModelInfo& info);

// What sliding windows' steps are multiples of, per axis: the network's size multiple and every
// gate's stride (and its compatibility grid's with `coarse`), so that every window's maps line up
// with the volume's grids.
[[nodiscard]] std::vector<int64_t> windowAlignment(const ModelInfo& info, bool coarse);
// UsageError unless `window` has a size per spatial axis of the model, each a multiple of its
// window alignment: what a run checks before its first case.
void checkWindow(const std::vector<int64_t>& window, const ModelInfo& info);

// --- attribution maps (docs/attribution.md): where a model's score for a class comes from ---

enum class AttributionMethod {
  GradCam,
  HiResCam,
  Gradient,
  GradientXInput,
  IntegratedGradients,
  Occlusion
};
// "gradcam", "hirescam", "gradient", "gradient_x_input", "integrated_gradients", "occlusion".
[[nodiscard]] const char* attributionMethodName(AttributionMethod method);
[[nodiscard]] std::optional<AttributionMethod> parseAttributionMethod(const std::string& name);
// Grad-CAM and HiResCAM weigh a layer's activation; the others differentiate the input.
[[nodiscard]] bool isLayerMethod(AttributionMethod method);

// A named module of the architecture whose output a layer method can use.
struct LayerInfo {
  std::string name;  // the original code's module path: conv3, center, up_concat2, ...
  int64_t channels = 0;
  std::array<int64_t, 3> stride = {1, 1, 1};  // of its grid relative to the input
};

struct AttributionRequest {
  AttributionMethod method = AttributionMethod::GradCam;
  std::vector<std::string> layers;     // layer methods: the layers to explain
  std::vector<int64_t> classes = {1};  // one map per class, sharing forwards where the method can
  // The voxels whose logits are summed: "predicted" (argmax is the class; every voxel when none
  // is), "all", or "reference" (where `reference` equals the class).
  std::string region = "predicted";
  TensorData reference;  // (1, 1, spatial) label values, for region "reference"
  int steps = 32;        // integrated gradients
  int patch = 8;         // occlusion: the side of the zeroed cube (square in 2D), in voxels
  int stride = 4;        // occlusion: the step between placements
  // The image's part of a padded input: voxels per spatial axis from the start (empty: the whole
  // input). The region never includes padding, and occlusion patches move over the image only.
  std::vector<int64_t> extent;
  // Sliding windows (empty: the whole input at once): each window's map explains the score over
  // the window's part of the region, and maps are blended with the prediction's Gaussian weights.
  // Steps are multiples of `alignment` (per axis; empty: 1).
  std::vector<int64_t> window;
  double overlap = 0.5;
  std::vector<int64_t> alignment;
  // Long work (integrated gradients, occlusion, windows) reports steps done out of the total.
  std::function<void(int64_t done, int64_t total)> progress;
};

struct AttributionResult {
  // Layer methods: each layer's map at its own grid (1, 1, layer spatial) and on the input grid
  // (linear, align_corners=False); input methods: one map named "input" on the input grid.
  std::vector<std::pair<std::string, TensorData>> native;
  std::vector<std::pair<std::string, TensorData>> maps;
  std::string region;  // as used: "predicted", "all", "all (prediction empty)", "reference"
  double score = 0.0;  // the target score S at the input (windows: of the blended logits)
  std::optional<double> completeness_error;  // integrated gradients (windows: the largest)
};

// A model gatescope can run: the native zoo (model.json) or a TorchScript export. Implementations
// live in plugins/ and are created through the plugin registry.
// A classifier's answer for one image (docs/models.md).
struct Classification {
  std::vector<std::string> head_names;                  // ModelInfo::heads
  std::vector<std::vector<double>> head_probabilities;  // per head, its softmax
  std::vector<double> probabilities;                    // the heads aggregated as the manifest says
  int predicted_class = 0;            // the most probable class (the first of equal maxima)
  std::vector<GatePrediction> gates;  // native and on the image grid
  double seconds = 0.0;
};

// An image's channels made the model's: RGB to one channel as ITU-R BT.601 luma (0.299 R + 0.587
// G + 0.114 B, the weights of Pillow's convert("L") without its rounding), one channel repeated to
// three; the same count as is.
// UsageError for any other pair.
[[nodiscard]] Volume<float> toModelChannels(const Volume<float>& image, int in_channels);

class ModelAdapter {
 public:
  virtual ~ModelAdapter() = default;
  [[nodiscard]] virtual const ModelInfo& info() const = 0;
  // The bare network on an already preprocessed input: logits and gates (for cross-checks).
  [[nodiscard]] virtual ForwardResult forward(const TensorData& input, bool capture_gates) = 0;
  // Preprocessing, inference, softmax and argmax, gates resampled to the image grid.
  [[nodiscard]] virtual Prediction predict(const Image& image, const PredictOptions& options) = 0;
  // Several images in one forward (evaluate --batch): one prediction each, in order, equal to
  // predict's up to the network's floating-point reductions. Images of unequal size, or whose
  // batch would need sliding windows or more than the memory budget, run one at a time (as this
  // default does). Each prediction's seconds are the batch's divided among its images. `prepared`
  // holds what prepare() made of each image (or nothing).
  [[nodiscard]] virtual std::vector<Prediction> predictBatch(
      const std::vector<const Image*>& images, const PredictOptions& options,
      const std::vector<std::shared_ptr<PreparedImage>>& prepared = {});
  // The work of a prediction that can be done ahead, on another thread while the model is busy
  // (evaluate's reader): the image checked, converted and normalised, and on CUDA copied up on a
  // stream of its own. Thread-safe against predict; null where the model prepares nothing ahead.
  // Throws what predict would for an image the model cannot take.
  [[nodiscard]] virtual std::shared_ptr<PreparedImage> prepare(const Image& image,
                                                               const PredictOptions& options);
  // The layers attribution methods can use (none for a model without named layers).
  [[nodiscard]] virtual std::vector<LayerInfo> layers() { return {}; }
  // Attribution maps on an already preprocessed input, one result per class of the request, in
  // its order; UsageError for a model that cannot make them, an unknown layer or class.
  [[nodiscard]] virtual std::vector<AttributionResult> attribute(const TensorData& input,
                                                                 const AttributionRequest& request);
  // Classifiers (info().task "classification"): class probabilities of a 2D image, per head and
  // aggregated, and the gates' maps. UsageError for a segmentation model.
  [[nodiscard]] virtual Classification classify(const Image& image, bool capture_gates);
};

}  // namespace gatescope
