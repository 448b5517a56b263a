#include "plugins/torchscript/torchscript_adapter.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/script.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "analysis/io/file_util.hpp"
#include "analysis/models/torchscript_metadata.hpp"
#include "plugins/attribution/attribution_engine.hpp"
#include "plugins/runtime/device.hpp"
#include "plugins/runtime/torch_errors.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

namespace {

class TorchScriptAdapter : public ModelAdapter {
 public:
  TorchScriptAdapter(const std::filesystem::path& path, const LoadOptions& options)
      : source_(path.string()) {
    device_ = resolveDevice(options.device);
    torch::jit::ExtraFilesMap extra{{"gatescope.json", ""}};
    checkReadable(path);
    try {
      module_ = torch::jit::load(path.string(), device_, extra);
    } catch (const c10::Error& e) {
      throw FormatError(source_ + ": not a loadable TorchScript model: " + torchErrorLine(e));
    }
    module_.eval();
    info_.name = path.stem().string();
    info_.architecture = "torchscript";
    info_.device = device_.str();
    info_.source = source_;
    info_.preprocessing = {"zscore", 16};
    info_.size_multiple = {16, 16, 16};
    info_.n_classes = 0;  // unknown until gatescope.json or the first forward says
    if (!extra["gatescope.json"].empty())
      readTorchScriptMetadata(extra["gatescope.json"], source_ + ": gatescope.json", info_,
                              align_corners_);
    classes_declared_ = info_.n_classes > 0;
    if (!classes_declared_) info_.n_classes = 2;
    if (classifier()) {
      info_.heads = {"logits"};
      info_.size_multiple = {1, 1, 1};  // a classifier pools globally: any size, never padded
      if (!classes_declared_) learnClassCount();
    }
  }

  const ModelInfo& info() const override { return info_; }

  ForwardResult forward(const TensorData& input, bool capture_gates) override {
    torch::InferenceMode inference;
    const zoo::NetworkOutput out = run(toTensor(input).to(device_), capture_gates);
    ForwardResult result;
    result.logits = toTensorData(out.logits);
    for (const auto& gate : out.gates)
      result.gates.emplace_back(gate.name, toTensorData(gate.alpha));
    return result;
  }

  Prediction predict(const Image& image, const PredictOptions& options) override {
    if (classifier())
      throw UsageError(source_ +
                       ": a classifier (gatescope.json task \"classification\"); "
                       "segmentation needs a segmentation network");
    return runPrediction([this](const torch::Tensor& x, bool capture) { return run(x, capture); },
                         image, options, info_, align_corners_, device_);
  }

  std::vector<Prediction> predictBatch(
      const std::vector<const Image*>& images, const PredictOptions& options,
      const std::vector<std::shared_ptr<PreparedImage>>& prepared) override {
    if (classifier()) return ModelAdapter::predictBatch(images, options);  // predict's error
    return runPredictionBatch(
        [this](const torch::Tensor& x, bool capture) { return run(x, capture); }, images, prepared,
        options, info_, align_corners_, device_);
  }

  std::shared_ptr<PreparedImage> prepare(const Image& image,
                                         const PredictOptions& options) override {
    if (classifier()) return nullptr;  // predict gives the error
    return prepareAhead(image, options, info_, device_);
  }

  // The "feature/<name>" outputs of the export (docs/models.md), measured on the smallest input.
  std::vector<LayerInfo> layers() override {
    if (!layers_)
      layers_ = attribution::measureLayers(
          [this](const torch::Tensor& x, attribution::Activations& features) {
            (void)run(x, false, &features);
          },
          info_, device_);
    return *layers_;
  }

  // One head, the logits: its softmax is the answer.
  Classification classify(const Image& image, bool capture_gates) override {
    if (!classifier()) return ModelAdapter::classify(image, capture_gates);
    return runClassification(
        [this](const torch::Tensor& x, bool capture) {
          zoo::NetworkOutput out = run(x, capture);
          out.heads = {out.logits};
          return out;
        },
        image, capture_gates, info_,
        [](const std::vector<std::vector<double>>& heads) { return heads.front(); }, device_,
        source_);
  }

  std::vector<AttributionResult> attribute(const TensorData& input,
                                           const AttributionRequest& request) override {
    const auto forward = [this](const torch::Tensor& x, const std::vector<std::string>& layers,
                                attribution::Activations& activations) {
      if (layers.empty()) return run(x, false).logits;
      attribution::Activations features;
      torch::Tensor logits = run(x, false, &features).logits;
      for (const auto& [name, a] : features)
        if (std::find(layers.begin(), layers.end(), name) != layers.end())
          activations.emplace_back(name, a);
      return logits;
    };
    return attribution::attribute(forward, toTensor(input).to(device_), request);
  }

 private:
  [[nodiscard]] bool classifier() const { return info_.task == "classification"; }

  // A classifier whose gatescope.json does not give n_classes: a forward of a 64 x 64 image says
  // (an evaluation pairs models by their class counts before it runs them).
  void learnClassCount() {
    torch::InferenceMode inference;
    try {
      (void)run(torch::zeros({1, info_.in_channels, 64, 64}, device_), false);
    } catch (const Error& e) {
      throw FormatError(fmt::format(
          "{}: gatescope.json gives no n_classes, and a 64 x 64 image does not tell them: {}",
          source_, e.what()));
    }
  }

  // `features`: also the "feature/<name>" outputs, by name.
  zoo::NetworkOutput run(const torch::Tensor& x, bool capture_gates,
                         attribution::Activations* features = nullptr) {
    c10::IValue result;
    try {
      result = module_.forward({x});
    } catch (const c10::Error& e) {
      throw Error(source_ + ": forward failed: " + torchErrorLine(e));
    } catch (const std::runtime_error& e) {  // torch::jit::JITException: the model raised
      throw Error(source_ + ": forward failed: " + torchErrorLine(e));
    }
    zoo::NetworkOutput out;
    if (result.isTensor()) {
      out.logits = result.toTensor();
    } else if (result.isGenericDict()) {
      for (const auto& item : result.toGenericDict()) {
        if (!item.key().isString())
          throw FormatError(source_ + ": forward returned a dictionary with a non-string key");
        const std::string key = item.key().toStringRef();
        const bool wanted = key == "logits" || (capture_gates && key.starts_with("gate/")) ||
                            (features && key.starts_with("feature/"));
        if (!wanted) continue;
        if (!item.value().isTensor())
          throw FormatError(
              fmt::format("{}: forward returned \"{}\" that is not a tensor", source_, key));
        if (key == "logits")
          out.logits = item.value().toTensor();
        else if (key.starts_with("feature/"))
          features->emplace_back(key.substr(8), item.value().toTensor());
        else
          out.gates.push_back({key.substr(5), item.value().toTensor(), {}});
      }
      if (!out.logits.defined())
        throw FormatError(source_ + ": forward returned a dictionary without \"logits\"");
    } else {
      throw FormatError(source_ +
                        ": forward must return a Tensor or a Dict[str, Tensor] (export contract)");
    }
    checkOutputs(out, x);
    return out;
  }

  // The outputs must be what the metadata promises: a mismatch would otherwise give wrong labels
  // (5 classes read as 3) or a crash further on.
  void checkOutputs(const zoo::NetworkOutput& out, const torch::Tensor& x) {
    const auto shape = [](const torch::Tensor& t) {
      return fmt::format("[{}]", fmt::join(t.sizes(), ", "));
    };
    if (classifier() && out.logits.dim() != 2)
      throw FormatError(fmt::format("{}: a classifier's logits must be (batch, classes), not {}",
                                    source_, shape(out.logits)));
    if (!classifier() && out.logits.dim() != x.dim())
      throw FormatError(
          fmt::format("{}: logits have {} dimensions ({}) for a {}-dimensional input {}", source_,
                      out.logits.dim(), shape(out.logits), x.dim(), shape(x)));
    if (out.logits.size(0) != x.size(0))
      throw FormatError(
          fmt::format("{}: logits {} for a batch of {}", source_, shape(out.logits), x.size(0)));
    if (!classes_declared_) {
      // Without metadata the model's own output says how many classes it has.
      if (out.logits.size(1) < 1 || out.logits.size(1) > 256)
        throw FormatError(fmt::format("{}: the model returns {} classes (1 to 256 are supported)",
                                      source_, out.logits.size(1)));
      info_.n_classes = static_cast<int>(out.logits.size(1));
    }
    if (out.logits.size(1) != info_.n_classes)
      throw FormatError(
          fmt::format("{}: the model returns {} classes, its metadata declares n_classes {}",
                      source_, out.logits.size(1), info_.n_classes));
    for (int64_t a = 2; a < x.dim() && !classifier(); ++a)
      if (out.logits.size(a) != x.size(a))
        throw FormatError(fmt::format("{}: logits {} do not have the input's spatial size {}",
                                      source_, shape(out.logits), shape(x)));
    if (!out.logits.is_floating_point())
      throw FormatError(fmt::format("{}: logits must be floating point, not {}", source_,
                                    std::string(c10::toString(out.logits.scalar_type()))));
    for (const auto& gate : out.gates) {
      if (gate.alpha.dim() != x.dim() || gate.alpha.size(0) != x.size(0) ||
          gate.alpha.size(1) < 1 || !gate.alpha.is_floating_point())
        throw FormatError(fmt::format(
            "{}: gate/{} has shape {}: expected (batch, channels, spatial) like the input {}",
            source_, gate.name, shape(gate.alpha), shape(x)));
      const GateInfo* declared = nullptr;
      for (const auto& g : info_.gates)
        if (g.name == gate.name) declared = &g;
      for (int64_t a = 2; a < x.dim(); ++a) {
        const int64_t size = gate.alpha.size(a);
        const int64_t stride = declared ? declared->stride[static_cast<size_t>(a - 2)] : 0;
        const bool fits =
            size > 0 && (stride > 0 ? size * stride == x.size(a) : x.size(a) % size == 0);
        if (!fits)
          throw FormatError(fmt::format(
              "{}: gate/{} has shape {}, which {} the input {}", source_, gate.name,
              shape(gate.alpha),
              stride > 0 ? fmt::format("with its declared stride {} does not cover", stride)
                         : "does not divide",
              shape(x)));
      }
    }
    for (const auto& g : info_.gates)
      if (!out.gates.empty() && std::none_of(out.gates.begin(), out.gates.end(),
                                             [&](const auto& gate) { return gate.name == g.name; }))
        throw FormatError(fmt::format(
            "{}: gatescope.json declares gate \"{}\" but forward returns no \"gate/{}\"", source_,
            g.name, g.name));
  }

  std::string source_;
  torch::jit::Module module_;
  torch::Device device_{torch::kCPU};
  ModelInfo info_;
  bool align_corners_ = false;
  bool classes_declared_ = false;                 // gatescope.json gives n_classes
  std::optional<std::vector<LayerInfo>> layers_;  // "feature/<name>" outputs, measured once
};

}  // namespace

std::unique_ptr<ModelAdapter> loadTorchScriptModel(const std::filesystem::path& path,
                                                   const LoadOptions& options) {
  return std::make_unique<TorchScriptAdapter>(path, options);
}

}  // namespace gatescope
