#include "plugins/attribution/attribution_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "analysis/core/error.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope::attribution {

namespace F = torch::nn::functional;

namespace {

std::vector<int64_t> spatialSize(const torch::Tensor& t) {
  return t.sizes().slice(2).vec();
}

// A map (1, spatial) on another grid: linear interpolation with align_corners=False, as gate maps.
torch::Tensor resample(const torch::Tensor& map, const std::vector<int64_t>& size) {
  auto options = F::InterpolateFuncOptions().size(size).align_corners(false);
  if (size.size() == 3)
    options.mode(torch::kTrilinear);
  else
    options.mode(torch::kBilinear);
  return F::interpolate(map.unsqueeze(1), options).squeeze(1);
}

// 1 inside the image's part of the input, 0 in its padding: (1, spatial) as `like`.
torch::Tensor extentMask(const torch::Tensor& like, const std::vector<int64_t>& extent) {
  torch::Tensor mask = torch::zeros_like(like);
  torch::Tensor inside = mask;
  for (size_t a = 0; a < extent.size(); ++a)
    inside = inside.narrow(static_cast<int64_t>(1 + a), 0, extent[a]);
  inside.fill_(1.0);
  return mask;
}

// The voxels the score sums: (1, spatial) as the logits' dtype (0/1), never the padding.
torch::Tensor regionMask(const torch::Tensor& logits, const AttributionRequest& request,
                         std::string& used) {
  const int64_t c = request.target_class;
  const torch::Tensor image = request.extent.empty()
                                  ? torch::ones_like(logits.select(1, 0))
                                  : extentMask(logits.select(1, 0).detach(), request.extent);
  if (request.region == "all") {
    used = "all";
    return image;
  }
  if (request.region == "reference") {
    const torch::Tensor reference = toTensor(request.reference).to(logits.device());
    if (reference.dim() != logits.dim() || reference.sizes().slice(2) != logits.sizes().slice(2))
      throw UsageError(fmt::format("the reference has shape {}, the input's grid is {}",
                                   fmt::join(reference.sizes(), "x"),
                                   fmt::join(logits.sizes().slice(2), "x")));
    used = "reference";
    return (reference.select(1, 0).round() == static_cast<double>(c)).to(logits.dtype()) * image;
  }
  if (request.region != "predicted")
    throw UsageError("region '" + request.region + "' is not predicted, all or reference");
  const torch::Tensor predicted = (logits.detach().argmax(1) == c).to(logits.dtype()) * image;
  if (predicted.sum().item<double>() == 0.0) {
    used = "all (prediction empty)";
    return image;
  }
  used = "predicted";
  return predicted;
}

torch::Tensor score(const torch::Tensor& logits, const torch::Tensor& mask, int64_t c) {
  return (logits.select(1, c) * mask).sum();
}

void addMap(std::vector<std::pair<std::string, TensorData>>& list, const std::string& name,
            const torch::Tensor& map) {
  list.emplace_back(name,
                    toTensorData(map.detach().unsqueeze(1).to(torch::kFloat32).contiguous().cpu()));
}

// Where a patch starts along an axis of `size` voxels: every `stride` while the patch fits, then
// one flush with the end, so that every voxel is covered (one placement when the patch is longer
// than the axis).
std::vector<int64_t> patchStarts(int64_t size, int64_t patch, int64_t stride) {
  std::vector<int64_t> starts;
  for (int64_t s = 0; s + patch < size; s += stride) starts.push_back(s);
  const int64_t last = std::max<int64_t>(0, size - patch);
  if (starts.empty() || starts.back() != last) starts.push_back(last);
  return starts;
}

// map(v) = mean over the placements covering v of S(x) - S(x with the patch set to 0).
torch::Tensor occlusionMap(const CapturingForward& forward, const torch::Tensor& input,
                           const torch::Tensor& mask, int64_t c, const AttributionRequest& request,
                           double score_at_input) {
  if (request.patch < 1 || request.stride < 1)
    throw UsageError("occlusion needs a patch and a stride of at least 1");
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> full = spatialSize(input);
  const std::vector<int64_t> grid = request.extent.empty() ? full : request.extent;
  std::vector<std::vector<int64_t>> starts;
  for (const int64_t size : grid)
    starts.push_back(patchStarts(size, request.patch, request.stride));
  std::vector<std::vector<int64_t>> placements(1);
  for (const auto& axis : starts) {
    std::vector<std::vector<int64_t>> next;
    for (const auto& p : placements)
      for (const int64_t s : axis) {
        next.push_back(p);
        next.back().push_back(s);
      }
    placements = std::move(next);
  }
  const auto patchOf = [&](torch::Tensor t, const std::vector<int64_t>& at, int64_t first_dim) {
    for (size_t a = 0; a < at.size(); ++a)
      t = t.narrow(static_cast<int64_t>(first_dim + a), at[a],
                   std::min<int64_t>(request.patch, grid[a] - at[a]));
    return t;
  };
  torch::Tensor sum = torch::zeros(full, input.options()),
                count = torch::zeros(full, input.options());
  constexpr size_t kBatch = 8;  // placements per forward
  std::vector<int64_t> spatial_dims;
  for (size_t d = 0; d < grid.size(); ++d) spatial_dims.push_back(static_cast<int64_t>(1 + d));
  for (size_t first = 0; first < placements.size(); first += kBatch) {
    const size_t n = std::min(kBatch, placements.size() - first);
    std::vector<int64_t> repeats(static_cast<size_t>(input.dim()), 1);
    repeats[0] = static_cast<int64_t>(n);
    torch::Tensor batch = input.repeat(repeats);
    for (size_t b = 0; b < n; ++b)
      patchOf(batch[static_cast<int64_t>(b)], placements[first + b], 1).zero_();
    Activations unused;
    const torch::Tensor logits = forward(batch, {}, unused);
    // In double: S(x) - S(occluded) cancels most of two sums over every voxel.
    const torch::Tensor scores =
        (logits.select(1, c).to(torch::kFloat64) * mask.to(torch::kFloat64)).sum(spatial_dims);
    for (size_t b = 0; b < n; ++b) {
      patchOf(sum, placements[first + b], 0) +=
          score_at_input - scores[static_cast<int64_t>(b)].item<double>();
      patchOf(count, placements[first + b], 0) += 1.0;
    }
    if (request.progress)
      request.progress(static_cast<int64_t>(first + n), static_cast<int64_t>(placements.size()));
  }
  return (sum / count.clamp_min(1.0)).unsqueeze(0);
}

}  // namespace

std::vector<LayerInfo> measureLayers(
    const std::function<void(const torch::Tensor& input, Activations& activations)>& run,
    const ModelInfo& info, const torch::Device& device) {
  torch::InferenceMode inference;
  std::vector<int64_t> shape = {1, info.in_channels};
  for (int a = 0; a < info.dimensions; ++a)
    shape.push_back(2 * info.size_multiple[static_cast<size_t>(a)]);
  Activations activations;
  run(torch::zeros(shape, torch::TensorOptions().device(device)), activations);
  std::vector<LayerInfo> out;
  for (const auto& [name, a] : activations) {
    LayerInfo layer{name, a.size(1), {1, 1, 1}};
    for (int d = 0; d < info.dimensions && d + 2 < a.dim(); ++d)
      layer.stride[static_cast<size_t>(d)] = shape[static_cast<size_t>(2 + d)] / a.size(2 + d);
    out.push_back(layer);
  }
  return out;
}

AttributionResult attribute(const CapturingForward& forward, const torch::Tensor& input,
                            const AttributionRequest& request) {
  torch::AutoGradMode grad(true);
  AttributionResult result;
  const bool layer_method = isLayerMethod(request.method);
  if (layer_method && request.layers.empty())
    throw UsageError("a layer method needs at least one layer");
  if (!request.extent.empty()) {
    bool fits = static_cast<int64_t>(request.extent.size()) == input.dim() - 2;
    for (size_t a = 0; fits && a < request.extent.size(); ++a)
      fits = request.extent[a] >= 1 && request.extent[a] <= input.size(static_cast<int64_t>(2 + a));
    if (!fits)
      throw UsageError(fmt::format("the image extent {} does not fit the input's grid {}",
                                   fmt::join(request.extent, "x"),
                                   fmt::join(input.sizes().slice(2), "x")));
  }
  torch::Tensor x = input.detach().clone().requires_grad_(!layer_method);
  Activations activations;
  const torch::Tensor logits =
      forward(x, layer_method ? request.layers : std::vector<std::string>{}, activations);
  const int64_t c = request.target_class;
  if (c < 0 || c >= logits.size(1))
    throw UsageError(
        fmt::format("class {} is not one of the model's classes 0-{}", c, logits.size(1) - 1));
  const torch::Tensor mask = regionMask(logits, request, result.region);
  const torch::Tensor s = score(logits, mask, c);
  result.score = s.item<double>();
  const std::vector<int64_t> grid = spatialSize(input);

  if (layer_method) {
    std::vector<torch::Tensor> layers;
    for (const auto& name : request.layers) {
      const auto found = std::find_if(activations.begin(), activations.end(),
                                      [&](const auto& a) { return a.first == name; });
      if (found == activations.end()) throw UsageError("no layer '" + name + "' in this network");
      layers.push_back(found->second);
    }
    // One backward for every layer asked for.
    const std::vector<torch::Tensor> grads =
        torch::autograd::grad({s}, layers, {}, false, false, true);
    for (size_t n = 0; n < layers.size(); ++n) {
      const torch::Tensor& a = layers[n];
      const torch::Tensor g = grads[n].defined() ? grads[n] : torch::zeros_like(a);
      std::vector<int64_t> spatial_dims;
      for (int64_t d = 2; d < a.dim(); ++d) spatial_dims.push_back(d);
      torch::Tensor map;
      if (request.method == AttributionMethod::GradCam)
        map = (g.mean(spatial_dims, true) * a).sum(1).relu();
      else
        map = (g * a).sum(1).relu();
      addMap(result.native, request.layers[n], map);
      addMap(result.maps, request.layers[n], resample(map.detach(), grid));
    }
    return result;
  }

  torch::Tensor map;
  if (request.method == AttributionMethod::Occlusion) {
    double s64 = 0.0;
    {
      torch::NoGradGuard no_grad;
      s64 =
          (logits.select(1, c).to(torch::kFloat64) * mask.to(torch::kFloat64)).sum().item<double>();
    }
    map = occlusionMap(forward, input, mask, c, request, s64);
  } else if (request.method == AttributionMethod::IntegratedGradients) {
    if (request.steps < 1) throw UsageError("integrated gradients need at least one step");
    // Right Riemann sum from the baseline 0, with the region fixed at the input's.
    const torch::Tensor base = torch::zeros_like(input);
    torch::Tensor total = torch::zeros_like(input);
    for (int i = 1; i <= request.steps; ++i) {
      torch::Tensor xi = (base + (static_cast<double>(i) / request.steps) * (input - base))
                             .detach()
                             .requires_grad_(true);
      Activations unused;
      const torch::Tensor si = score(forward(xi, {}, unused), mask, c);
      total += torch::autograd::grad({si}, {xi})[0];
      if (request.progress) request.progress(i, request.steps);
    }
    const torch::Tensor ig = (input - base) * total / static_cast<double>(request.steps);
    Activations unused;
    const double s0 = [&] {
      torch::NoGradGuard no_grad;
      return score(forward(base, {}, unused), mask, c).item<double>();
    }();
    const double delta = result.score - s0;
    result.completeness_error =
        std::abs(ig.sum().item<double>() - delta) / std::max(std::abs(delta), 1e-12);
    map = ig.sum(1);
  } else {
    const torch::Tensor g = torch::autograd::grad({s}, {x})[0];
    map = request.method == AttributionMethod::Gradient ? g.abs().amax(1) : (g * input).sum(1);
  }
  addMap(result.maps, "input", map);
  return result;
}

}  // namespace gatescope::attribution
