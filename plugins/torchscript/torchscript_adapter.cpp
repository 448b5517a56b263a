#include "plugins/torchscript/torchscript_adapter.hpp"

#include <torch/script.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "analysis/core/error.hpp"
#include "plugins/runtime/device.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

namespace {

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

class TorchScriptAdapter : public ModelAdapter {
 public:
  TorchScriptAdapter(const std::filesystem::path& path, const LoadOptions& options) : source_(path.string()) {
    device_ = resolveDevice(options.device);
    torch::jit::ExtraFilesMap extra{{"gatescope.json", ""}};
    try {
      module_ = torch::jit::load(path.string(), device_, extra);
    } catch (const c10::Error& e) {
      throw FormatError(source_ + ": not a loadable TorchScript model: " + firstLine(e.what_without_backtrace()));
    }
    module_.eval();
    info_.name = path.stem().string();
    info_.architecture = "torchscript";
    info_.device = device_.str();
    info_.preprocessing = {"zscore", 16};
    info_.size_multiple = {16, 16, 16};
    readMetadata(extra["gatescope.json"]);
  }

  const ModelInfo& info() const override { return info_; }

  ForwardResult forward(const TensorData& input, bool capture_gates) override {
    torch::InferenceMode inference;
    const zoo::NetworkOutput out = run(toTensor(input).to(device_), capture_gates);
    ForwardResult result{toTensorData(out.logits), {}};
    for (const auto& gate : out.gates) result.gates.emplace_back(gate.name, toTensorData(gate.alpha));
    return result;
  }

  Prediction predict(const Image& image, const PredictOptions& options) override {
    return runPrediction([this](const torch::Tensor& x, bool capture) { return run(x, capture); }, image, options,
                         info_, align_corners_, device_);
  }

 private:
  void readMetadata(const std::string& text) {
    if (text.empty()) return;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::parse_error& e) {
      throw FormatError(source_ + ": gatescope.json is not valid JSON: " + e.what());
    }
    const auto get = [&](const char* key, auto& target) {
      if (!j.contains(key)) return;
      try {
        j.at(key).get_to(target);
      } catch (const nlohmann::json::exception&) {
        throw FormatError(fmt::format("{}: gatescope.json: \"{}\" has the wrong type", source_, key));
      }
    };
    get("name", info_.name);
    get("architecture", info_.architecture);
    get("in_channels", info_.in_channels);
    get("n_classes", info_.n_classes);
    get("upsample_align_corners", align_corners_);
    std::string dim = info_.dimensions == 2 ? "2D" : "3D";
    get("tensor_dim", dim);
    if (dim != "2D" && dim != "3D") throw FormatError(source_ + ": gatescope.json: tensor_dim must be 2D or 3D");
    info_.dimensions = dim == "2D" ? 2 : 3;
    if (j.contains("size_multiple")) {
      std::vector<int64_t> m;
      get("size_multiple", m);
      for (size_t a = 0; a < 3 && a < m.size(); ++a) info_.size_multiple[a] = m[a];
    }
    if (j.contains("preprocessing")) {
      const auto& p = j.at("preprocessing");
      if (p.contains("normalize")) info_.preprocessing.normalize = p.at("normalize").get<std::string>();
      if (p.contains("pad_to_multiple")) info_.preprocessing.pad_to_multiple = p.at("pad_to_multiple").get<int>();
    }
    if (j.contains("labels"))
      for (const auto& [key, value] : j.at("labels").items()) info_.labels[std::stoi(key)] = value.get<std::string>();
    if (j.contains("gates"))
      for (const auto& g : j.at("gates")) {
        GateInfo gate{g.value("name", std::string()), {1, 1, 1}};
        if (g.contains("stride")) {
          const auto s = g.at("stride").get<std::vector<int64_t>>();
          for (size_t a = 0; a < 3 && a < s.size(); ++a) gate.stride[a] = s[a];
        }
        info_.gates.push_back(gate);
      }
  }

  zoo::NetworkOutput run(const torch::Tensor& x, bool capture_gates) {
    c10::IValue result;
    try {
      result = module_.forward({x});
    } catch (const c10::Error& e) {
      throw Error(source_ + ": forward failed: " + firstLine(e.what_without_backtrace()));
    }
    zoo::NetworkOutput out;
    if (result.isTensor()) {
      out.logits = result.toTensor();
    } else if (result.isGenericDict()) {
      for (const auto& item : result.toGenericDict()) {
        const std::string key = item.key().toStringRef();
        if (key == "logits") out.logits = item.value().toTensor();
        else if (capture_gates && key.starts_with("gate/")) out.gates.push_back({key.substr(5), item.value().toTensor()});
      }
      if (!out.logits.defined()) throw FormatError(source_ + ": forward returned a dictionary without \"logits\"");
    } else {
      throw FormatError(source_ + ": forward must return a Tensor or a Dict[str, Tensor] (export contract)");
    }
    if (out.logits.dim() != x.dim())
      throw FormatError(fmt::format("{}: logits have {} dimensions for a {}-dimensional input", source_,
                                    out.logits.dim(), x.dim()));
    return out;
  }

  std::string source_;
  torch::jit::Module module_;
  torch::Device device_{torch::kCPU};
  ModelInfo info_;
  bool align_corners_ = false;
};

}  // namespace

std::unique_ptr<ModelAdapter> loadTorchScriptModel(const std::filesystem::path& path, const LoadOptions& options) {
  return std::make_unique<TorchScriptAdapter>(path, options);
}

}  // namespace gatescope
