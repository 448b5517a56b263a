#include "analysis/models/model_adapter.hpp"

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

AttributionResult ModelAdapter::attribute(const TensorData&, const AttributionRequest& request) {
  throw UsageError(info().name + ": this model cannot compute " +
                   attributionMethodName(request.method) + " maps");
}

}  // namespace gatescope
