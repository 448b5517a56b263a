#include "analysis/models/model_adapter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

constexpr std::pair<AttributionMethod, const char*> kMethods[] = {
    {AttributionMethod::GradCam, "gradcam"},
    {AttributionMethod::HiResCam, "hirescam"},
    {AttributionMethod::Gradient, "gradient"},
    {AttributionMethod::GradientXInput, "gradient_x_input"},
    {AttributionMethod::IntegratedGradients, "integrated_gradients"},
    {AttributionMethod::Occlusion, "occlusion"},
};

}  // namespace

const char* attributionMethodName(AttributionMethod method) {
  for (const auto& [m, name] : kMethods)
    if (m == method) return name;
  return "?";
}

std::optional<AttributionMethod> parseAttributionMethod(const std::string& name) {
  for (const auto& [m, known] : kMethods)
    if (name == known) return m;
  return std::nullopt;
}

bool isLayerMethod(AttributionMethod method) {
  return method == AttributionMethod::GradCam || method == AttributionMethod::HiResCam;
}

void checkModelInput(const Volume<float>& image, const ModelInfo& info) {
  if (image.channels() != info.in_channels)
    throw UsageError(fmt::format("the model expects {} input channel(s), the image has {}",
                                 info.in_channels, image.channels()));
  if (info.dimensions == 2 && image.dims()[2] != 1)
    throw UsageError(
        fmt::format("a 2D model needs 2D images; this one has {} slices", image.dims()[2]));
  for (const float v : image.values())
    if (!std::isfinite(v)) throw FormatError("the input image holds NaN or infinite values");
}

Index3 paddedDims(const Index3& dims, const ModelInfo& info) {
  Index3 padded = dims;
  for (size_t axis = 0; axis < static_cast<size_t>(info.dimensions); ++axis) {
    const int64_t multiple =
        std::lcm<int64_t>(info.preprocessing.pad_to_multiple, info.size_multiple[axis]);
    padded[axis] = (dims[axis] + multiple - 1) / multiple * multiple;
  }
  return padded;
}

std::vector<int64_t> windowAlignment(const ModelInfo& info, bool coarse) {
  std::vector<int64_t> alignment(static_cast<size_t>(info.dimensions), 1);
  for (const auto& gate : info.gates)
    for (size_t a = 0; a < alignment.size(); ++a) {
      if (gate.stride[a] > 0) alignment[a] = std::lcm(alignment[a], gate.stride[a]);  // 0: unknown
      if (coarse && gate.coarse_stride[a] > 0)
        alignment[a] = std::lcm(alignment[a], gate.coarse_stride[a]);
    }
  for (size_t a = 0; a < alignment.size(); ++a)
    alignment[a] = std::lcm(alignment[a], info.size_multiple[a]);
  return alignment;
}

void checkWindow(const std::vector<int64_t>& window, const ModelInfo& info) {
  if (static_cast<int>(window.size()) != info.dimensions)
    throw UsageError(fmt::format("--window needs {} sizes for {}, got {}", info.dimensions,
                                 info.name, window.size()));
  const std::vector<int64_t> alignment = windowAlignment(info, false);
  for (size_t a = 0; a < window.size(); ++a)
    if (window[a] < alignment[a] || window[a] % alignment[a] != 0)
      throw UsageError(fmt::format("--window: {} along axis {} must be a multiple of {} for {}",
                                   window[a], a, alignment[a], info.name));
}

std::vector<Prediction> ModelAdapter::predictBatch(
    const std::vector<const Image*>& images, const PredictOptions& options,
    const std::vector<std::shared_ptr<PreparedImage>>& /*prepared*/) {
  std::vector<Prediction> predictions;
  for (const Image* image : images) predictions.push_back(predict(*image, options));
  return predictions;
}

std::shared_ptr<PreparedImage> ModelAdapter::prepare(const Image& /*image*/,
                                                     const PredictOptions& /*options*/) {
  return nullptr;
}

std::vector<AttributionResult> ModelAdapter::attribute(const TensorData&,
                                                       const AttributionRequest& request) {
  throw UsageError(info().name + ": this model cannot compute " +
                   attributionMethodName(request.method) + " maps");
}

Classification ModelAdapter::classify(const Image&, bool) {
  throw UsageError(info().source + ": " + info().architecture +
                   " segments; classification needs a classifier (sononet, sononet2, "
                   "sononet_grid_attention)");
}

Volume<float> toModelChannels(const Volume<float>& image, int in_channels) {
  if (image.channels() == in_channels) return image;
  const int64_t n = image.voxelsPerChannel();
  if (image.channels() == 3 && in_channels == 1) {
    Volume<float> gray(image.geometry(), 1);
    const float* rgb = image.data();
    for (int64_t v = 0; v < n; ++v)
      gray.data()[v] =
          static_cast<float>(0.299 * rgb[v] + 0.587 * rgb[n + v] + 0.114 * rgb[2 * n + v]);
    return gray;
  }
  if (image.channels() == 1 && in_channels == 3) {
    Volume<float> rgb(image.geometry(), 3);
    for (int c = 0; c < 3; ++c) std::copy(image.data(), image.data() + n, rgb.data() + c * n);
    return rgb;
  }
  throw UsageError(fmt::format("the model expects {} input channel(s), the image has {}",
                               in_channels, image.channels()));
}

}  // namespace gatescope
