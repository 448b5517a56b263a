#include "plugins/zoo/native_adapter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "analysis/classification/head_aggregation.hpp"
#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"
#include "plugins/attribution/attribution_engine.hpp"
#include "plugins/runtime/device.hpp"
#include "plugins/zoo/classifiers.hpp"
#include "plugins/zoo/networks.hpp"
#include "plugins/zoo/state_dict.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

namespace {

class NativeAdapter : public ModelAdapter {
 public:
  NativeAdapter(const ModelManifest& manifest, const LoadOptions& options) : manifest_(manifest) {
    const ZooConfig config = zooConfigFor(manifest);
    const bool classifier = isClassifierArchitecture(manifest.architecture);
    try {
      network_ = classifier ? zoo::makeClassifier(config) : zoo::makeNetwork(config);
    } catch (const UsageError& e) {  // a manifest that names no valid network is a bad file
      throw FormatError(manifest.source.string() + ": " + e.what());
    }
    loadWeights(*network_, manifest.weights, manifest);
    device_ = resolveDevice(options.device);
    network_->to(device_);
    network_->eval();
    network_->prepareForInference();

    info_.name = manifest.name;
    info_.architecture = manifest.architecture;
    if (classifier) {
      info_.task = "classification";
      info_.heads = zoo::classifierHeads(config);
    }
    info_.dimensions = config.dimensions;
    info_.in_channels = manifest.in_channels;
    info_.n_classes = manifest.n_classes;
    info_.labels = manifest.labels;
    info_.preprocessing = manifest.preprocessing;
    info_.size_multiple = network_->sizeMultiple();
    info_.device = device_.str();
    info_.source = manifest.source.string();
    for (const auto& gate : network_->gates())
      info_.gates.push_back({gate.name, gate.stride, gate.coarse_stride});
  }

  const ModelInfo& info() const override { return info_; }

  ForwardResult forward(const TensorData& input, bool capture_gates) override {
    torch::InferenceMode inference;
    const zoo::NetworkOutput out = network_->run(toTensor(input).to(device_), capture_gates);
    ForwardResult result;
    if (out.logits.defined()) result.logits = toTensorData(out.logits);
    for (size_t h = 0; h < out.heads.size(); ++h)
      result.heads.emplace_back(h < info_.heads.size() ? info_.heads[h] : std::to_string(h),
                                toTensorData(out.heads[h]));
    for (const auto& gate : out.gates) {
      result.gates.emplace_back(gate.name, toTensorData(gate.alpha));
      if (gate.coarse.defined()) result.coarse.emplace_back(gate.name, toTensorData(gate.coarse));
    }
    return result;
  }

  std::vector<LayerInfo> layers() override {
    if (!layers_)  // measured once: every attribution call checks its layers against them
      layers_ = attribution::measureLayers(
          [this](const torch::Tensor& x, attribution::Activations& activations) {
            (void)network_->runCapturing(x, {}, activations);
          },
          info_, device_);
    return *layers_;
  }

  std::vector<AttributionResult> attribute(const TensorData& input,
                                           const AttributionRequest& request) override {
    // Gradients go through the checkpoint's own weights: the folded inference network computes
    // the same function, but its rounding moves gradients at ReLU kinks by more than maps may
    // differ from PyTorch's (docs/attribution.md). Loaded on first use.
    const bool classifier = info_.task == "classification";
    if (!attribution_network_) {
      const ZooConfig config = zooConfigFor(manifest_);
      attribution_network_ = classifier ? zoo::makeClassifier(config) : zoo::makeNetwork(config);
      loadWeights(*attribution_network_, manifest_.weights, manifest_);
      attribution_network_->to(device_);
      attribution_network_->eval();
    }
    // A classifier's score is its class logit, the mean over its heads (docs/attribution.md).
    const auto logitsOf = [classifier](const zoo::NetworkOutput& out) {
      return classifier ? torch::stack(out.heads).mean(0) : out.logits;
    };
    const auto forward = [this, &logitsOf](const torch::Tensor& x,
                                           const std::vector<std::string>& layers,
                                           attribution::Activations& activations) {
      if (layers.empty()) return logitsOf(attribution_network_->run(x, false));  // input methods
      return logitsOf(attribution_network_->runCapturing(x, layers, activations));
    };
    return attribution::attribute(forward, toTensor(input).to(device_), request);
  }

  Prediction predict(const Image& image, const PredictOptions& options) override {
    refuseClassifier("segmentation");
    return runPrediction(
        [this](const torch::Tensor& x, bool capture) { return network_->run(x, capture); }, image,
        options, info_, manifest_.upsample_align_corners, device_);
  }

  std::vector<Prediction> predictBatch(
      const std::vector<const Image*>& images, const PredictOptions& options,
      const std::vector<std::shared_ptr<PreparedImage>>& prepared) override {
    refuseClassifier("segmentation");
    return runPredictionBatch(
        [this](const torch::Tensor& x, bool capture) { return network_->run(x, capture); }, images,
        prepared, options, info_, manifest_.upsample_align_corners, device_);
  }

  std::shared_ptr<PreparedImage> prepare(const Image& image,
                                         const PredictOptions& options) override {
    refuseClassifier("segmentation");
    return prepareAhead(image, options, info_, device_);
  }

  Classification classify(const Image& image, bool capture_gates) override {
    if (info_.task != "classification") return ModelAdapter::classify(image, capture_gates);
    return runClassification(
        [this](const torch::Tensor& x, bool capture) { return network_->run(x, capture); }, image,
        capture_gates, info_,
        [this](const std::vector<std::vector<double>>& heads) {
          return aggregateHeads(heads, manifest_);
        },
        device_, manifest_.source.string());
  }

 private:
  void refuseClassifier(const char* what) const {
    if (info_.task == "classification")
      throw UsageError(fmt::format("{}: {} is a classifier; {} needs a segmentation network",
                                   manifest_.source.string(), manifest_.architecture, what));
  }

  ModelManifest manifest_;
  std::shared_ptr<zoo::Network> network_;
  std::shared_ptr<zoo::Network> attribution_network_;  // unfolded, for gradients
  std::optional<std::vector<LayerInfo>> layers_;
  torch::Device device_{torch::kCPU};
  ModelInfo info_;
};

}  // namespace

std::unique_ptr<ModelAdapter> loadNativeModel(const std::filesystem::path& manifest_path,
                                              const LoadOptions& options) {
  return std::make_unique<NativeAdapter>(readModelManifest(manifest_path), options);
}

}  // namespace gatescope
