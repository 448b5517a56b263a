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
    refuseClassifier("attribution maps");
    // Gradients go through the checkpoint's own weights: the folded inference network computes
    // the same function, but its rounding moves gradients at ReLU kinks by more than maps may
    // differ from PyTorch's (docs/attribution.md). Loaded on first use.
    if (!attribution_network_) {
      attribution_network_ = zoo::makeNetwork(zooConfigFor(manifest_));
      loadWeights(*attribution_network_, manifest_.weights, manifest_);
      attribution_network_->to(device_);
      attribution_network_->eval();
    }
    const auto forward = [this](const torch::Tensor& x, const std::vector<std::string>& layers,
                                attribution::Activations& activations) {
      if (layers.empty()) return attribution_network_->run(x, false).logits;  // input methods
      return attribution_network_->runCapturing(x, layers, activations).logits;
    };
    return attribution::attribute(forward, toTensor(input).to(device_), request);
  }

  Prediction predict(const Image& image, const PredictOptions& options) override {
    refuseClassifier("segmentation");
    return runPrediction(
        [this](const torch::Tensor& x, bool capture) { return network_->run(x, capture); }, image,
        options, info_, manifest_.upsample_align_corners, device_);
  }

  Classification classify(const Image& image, bool capture_gates) override {
    if (info_.task != "classification") return ModelAdapter::classify(image, capture_gates);
    const auto start = std::chrono::steady_clock::now();
    torch::InferenceMode inference;
    const Volume<float> real = toModelChannels(toFloatVolume(image), info_.in_channels);
    checkModelInput(real, info_);
    // No padding: the global pooling takes any size, and zeros would change the answer.
    const PreparedInput prepared = prepareInput(real, info_, /*for_windows=*/true, device_);
    Classification c;
    try {
      // A classifier sees an image as Python reads the file (docs/models.md): a PNG as PIL and
      // numpy hold it, (row, column), a NIfTI as nibabel does, (i, j); its gate maps come back to
      // the image's (i, j) grid.
      const bool picture = image.header.format == ImageFormat::Png;
      const torch::Tensor input = picture ? prepared.tensor.transpose(2, 3) : prepared.tensor;
      zoo::NetworkOutput out = network_->run(input.contiguous().to(device_), capture_gates);
      for (auto& gate : out.gates) {
        if (picture) gate.alpha = gate.alpha.transpose(2, 3);
        gate.coarse = torch::Tensor();  // the gates sub-sample by 1: the map is their grid
      }
      c.head_names = info_.heads;
      for (const torch::Tensor& head : out.heads) {
        const torch::Tensor logits = head.to(torch::kCPU, torch::kFloat64).contiguous()[0];
        std::vector<double> values(logits.data_ptr<double>(),
                                   logits.data_ptr<double>() + logits.numel());
        for (const double v : values)
          if (!std::isfinite(v))
            throw Error(manifest_.source.string() +
                        ": the model produced non-finite logits for a finite input");
        c.head_probabilities.push_back(softmax(values));
      }
      c.probabilities = aggregateHeads(c.head_probabilities, manifest_);
      c.predicted_class =
          static_cast<int>(std::max_element(c.probabilities.begin(), c.probabilities.end()) -
                           c.probabilities.begin());
      std::vector<int64_t> grid(prepared.padded.begin(), prepared.padded.begin() + 2);
      c.gates = gatePredictions(out.gates, grid, prepared.original, real.geometry(), false);
    } catch (const c10::Error& e) {
      const std::string what = e.what_without_backtrace();
      throw Error("classification failed: " + what.substr(0, what.find('\n')));
    }
    c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return c;
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
