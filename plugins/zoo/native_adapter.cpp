#include "plugins/zoo/native_adapter.hpp"

#include <cmath>
#include <cstring>
#include <set>

#include <fmt/format.h>

#include "analysis/core/error.hpp"
#include "plugins/checkpoint/checkpoint_file.hpp"
#include "plugins/runtime/device.hpp"
#include "plugins/zoo/networks.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

namespace {

torch::Dtype torchDtype(const std::string& dtype, const std::string& source) {
  static const std::map<std::string, torch::Dtype> types = {
      {"float32", torch::kFloat32}, {"float64", torch::kFloat64}, {"float16", torch::kFloat16},
      {"bfloat16", torch::kBFloat16}, {"int64", torch::kInt64}, {"int32", torch::kInt32},
      {"int16", torch::kInt16}, {"int8", torch::kInt8}, {"uint8", torch::kUInt8}, {"bool", torch::kBool}};
  const auto it = types.find(dtype);
  if (it == types.end()) throw FormatError(source + ": unsupported tensor dtype " + dtype);
  return it->second;
}

std::string shapeText(at::IntArrayRef shape) {
  std::string s = "[";
  for (size_t d = 0; d < shape.size(); ++d) s += (d ? ", " : "") + std::to_string(shape[d]);
  return s + "]";
}

std::string listed(const std::vector<std::string>& items, size_t limit = 6) {
  std::string s;
  for (size_t n = 0; n < items.size() && n < limit; ++n) s += (n ? ", " : "") + items[n];
  if (items.size() > limit) s += fmt::format(", ... ({} more)", items.size() - limit);
  return s;
}

// Copies a state dict into the network, by name; every missing, unexpected or mis-shaped key is
// reported at once. num_batches_tracked may be missing (checkpoints from before PyTorch 0.4.1).
void loadStateDict(zoo::Network& network, const Checkpoint& checkpoint, const std::string& source,
                   const std::string& what) {
  std::map<std::string, torch::Tensor> expected;
  for (const auto& p : network.named_parameters()) expected[p.key()] = p.value();
  for (const auto& b : network.named_buffers()) expected[b.key()] = b.value();
  std::vector<std::string> missing, unexpected, misshaped;
  std::set<std::string> seen;
  for (const CheckpointTensor& t : checkpoint.tensors) {
    seen.insert(t.name);
    const auto it = expected.find(t.name);
    if (it == expected.end()) {
      unexpected.push_back(t.name);
      continue;
    }
    if (it->second.sizes().vec() != t.shape) {
      misshaped.push_back(fmt::format("{} (expected {}, found {})", t.name, shapeText(it->second.sizes()), shapeText(t.shape)));
      continue;
    }
    const torch::Tensor value =
        torch::from_blob(const_cast<uint8_t*>(t.data.data()), t.shape, torchDtype(t.dtype, source));
    torch::NoGradGuard no_grad;
    it->second.copy_(value.to(it->second.dtype()));
  }
  for (const auto& [name, tensor] : expected)
    if (!seen.count(name) && !name.ends_with("num_batches_tracked")) missing.push_back(name);
  if (missing.empty() && unexpected.empty() && misshaped.empty()) return;
  std::string problem;
  if (!missing.empty()) problem += fmt::format("{} missing key(s): {}", missing.size(), listed(missing));
  if (!unexpected.empty())
    problem += fmt::format("{}{} unexpected key(s): {}", problem.empty() ? "" : "; ", unexpected.size(), listed(unexpected));
  if (!misshaped.empty())
    problem += fmt::format("{}{} mis-shaped: {}", problem.empty() ? "" : "; ", misshaped.size(), listed(misshaped, 3));
  throw FormatError(fmt::format("{}: checkpoint does not fit {}: {}", source, what, problem));
}

class NativeAdapter : public ModelAdapter {
 public:
  NativeAdapter(const ModelManifest& manifest, const LoadOptions& options) : manifest_(manifest) {
    ZooConfig config;
    config.architecture = manifest.architecture;
    config.dimensions = manifest.tensor_dim == "2D" ? 2 : 3;
    config.in_channels = manifest.in_channels;
    config.n_classes = manifest.n_classes;
    config.feature_scale = manifest.feature_scale;
    config.attention_dsample = manifest.attention_dsample;
    config.nonlocal_mode = manifest.nonlocal_mode;
    config.upsample_align_corners = manifest.upsample_align_corners;
    network_ = zoo::makeNetwork(config);
    const std::string what = fmt::format("{} ({}, feature_scale {}, {} input channel(s), {} classes)",
                                         manifest.architecture, manifest.tensor_dim, manifest.feature_scale,
                                         manifest.in_channels, manifest.n_classes);
    loadStateDict(*network_, readCheckpoint(manifest.weights), manifest.weights.string(), what);
    device_ = resolveDevice(options.device);
    network_->to(device_);
    network_->eval();
    network_->prepareForInference();

    info_.name = manifest.name;
    info_.architecture = manifest.architecture;
    info_.dimensions = config.dimensions;
    info_.in_channels = manifest.in_channels;
    info_.n_classes = manifest.n_classes;
    info_.labels = manifest.labels;
    info_.preprocessing = manifest.preprocessing;
    info_.size_multiple = network_->sizeMultiple();
    info_.device = device_.str();
    for (const auto& [name, stride] : network_->gates()) info_.gates.push_back({name, stride});
  }

  const ModelInfo& info() const override { return info_; }

  ForwardResult forward(const TensorData& input, bool capture_gates) override {
    torch::InferenceMode inference;
    const zoo::NetworkOutput out = network_->run(toTensor(input).to(device_), capture_gates);
    ForwardResult result{toTensorData(out.logits), {}};
    for (const auto& gate : out.gates) result.gates.emplace_back(gate.name, toTensorData(gate.alpha));
    return result;
  }

  Prediction predict(const Image& image, const PredictOptions& options) override {
    return runPrediction([this](const torch::Tensor& x, bool capture) { return network_->run(x, capture); },
                         image, options, info_, manifest_.upsample_align_corners, device_);
  }

 private:
  ModelManifest manifest_;
  std::shared_ptr<zoo::Network> network_;
  torch::Device device_{torch::kCPU};
  ModelInfo info_;
};

}  // namespace

std::unique_ptr<ModelAdapter> loadNativeModel(const std::filesystem::path& manifest_path, const LoadOptions& options) {
  return std::make_unique<NativeAdapter>(readModelManifest(manifest_path), options);
}

}  // namespace gatescope
