#include "plugins/runtime/torch_errors.hpp"

#include <sstream>
#include <vector>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

std::string trimmed(std::string line) {
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  while (!line.empty() && line.front() == ' ') line.erase(0, 1);
  return line;
}

// "builtins.ValueError: ..." or "RuntimeError: ...": a Python-style exception line.
bool isExceptionLine(const std::string& line) {
  const auto colon = line.find(": ");
  if (colon == std::string::npos || colon == 0) return false;
  const std::string kind = line.substr(0, colon);
  if (kind.find(' ') != std::string::npos) return false;
  return kind.ends_with("Error") || kind.ends_with("Exception");
}

// The exception line of a LibTorch message, else its first line, at most 300 characters.
std::string errorLine(const std::string& message) {
  std::istringstream text(message);
  std::vector<std::string> lines;
  for (std::string line; std::getline(text, line);)
    if (!trimmed(line).empty()) lines.push_back(trimmed(line));
  if (lines.empty()) return "LibTorch error";
  for (auto line = lines.rbegin(); line != lines.rend(); ++line)
    if (isExceptionLine(*line)) return line->size() > 300 ? line->substr(0, 297) + "..." : *line;
  std::string first = lines.front();
  if (first.starts_with("The following operation failed in the TorchScript interpreter") &&
      lines.size() > 1)
    first = lines.back();
  return first.size() > 300 ? first.substr(0, 297) + "..." : first;
}

class GuardedModel : public ModelAdapter {
 public:
  GuardedModel(std::unique_ptr<ModelAdapter> model, std::string source)
      : model_(std::move(model)), source_(std::move(source)) {}
  const ModelInfo& info() const override { return model_->info(); }
  ForwardResult forward(const TensorData& input, bool capture_gates) override {
    return guarded([&] { return model_->forward(input, capture_gates); });
  }
  Prediction predict(const Image& image, const PredictOptions& options) override {
    return guarded([&] { return model_->predict(image, options); });
  }
  std::vector<Prediction> predictBatch(
      const std::vector<const Image*>& images, const PredictOptions& options,
      const std::vector<std::shared_ptr<PreparedImage>>& prepared) override {
    return guarded([&] { return model_->predictBatch(images, options, prepared); });
  }
  std::shared_ptr<PreparedImage> prepare(const Image& image,
                                         const PredictOptions& options) override {
    return guarded([&] { return model_->prepare(image, options); });
  }
  std::vector<LayerInfo> layers() override {
    return guarded([&] { return model_->layers(); });
  }
  std::vector<AttributionResult> attribute(const TensorData& input,
                                           const AttributionRequest& request) override {
    return guarded([&] { return model_->attribute(input, request); });
  }
  Classification classify(const Image& image, bool capture_gates) override {
    return guarded([&] { return model_->classify(image, capture_gates); });
  }

 private:
  template <typename F>
  auto guarded(F&& call) -> decltype(call()) {
    try {
      return call();
    } catch (const Error&) {
      throw;
    } catch (const c10::Error& e) {
      throw Error(source_ + ": " + torchErrorLine(e));
    } catch (const std::bad_alloc&) {
      throw;
    } catch (const std::exception& e) {  // torch::jit::JITException and friends
      throw Error(source_ + ": " + torchErrorLine(e));
    }
  }
  std::unique_ptr<ModelAdapter> model_;
  std::string source_;
};

}  // namespace

std::string torchErrorLine(const c10::Error& error) {
  return errorLine(error.what_without_backtrace());
}
std::string torchErrorLine(const std::exception& error) {
  return errorLine(error.what());
}

std::unique_ptr<ModelAdapter> guardTorchErrors(std::unique_ptr<ModelAdapter> model,
                                               const std::filesystem::path& source) {
  return std::make_unique<GuardedModel>(std::move(model), source.string());
}

}  // namespace gatescope
