#include "plugins/attribution/attribution_engine.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <optional>

#include "analysis/core/error.hpp"
#include "plugins/zoo/sliding_window.hpp"
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

void checkClasses(const std::vector<int64_t>& classes, int64_t n_classes) {
  if (classes.empty()) throw UsageError("no class to explain");
  for (const int64_t c : classes)
    if (c < 0 || c >= n_classes)
      throw UsageError(
          fmt::format("class {} is not one of the model's classes 0-{}", c, n_classes - 1));
}

// The voxels the score of class `c` sums: (1, spatial) as `scores`' dtype (0/1), never the
// padding. `scores` (1, classes, spatial) decide the region "predicted" by their argmax.
torch::Tensor regionMask(const torch::Tensor& scores, const AttributionRequest& request, int64_t c,
                         std::string& used) {
  if (scores.dim() == 2) {  // a classifier's logits (N, classes): the score is the class's logit
    used = "image";
    return torch::ones_like(scores.select(1, 0));
  }
  const torch::Tensor image = request.extent.empty()
                                  ? torch::ones_like(scores.select(1, 0))
                                  : extentMask(scores.select(1, 0).detach(), request.extent);
  if (request.region == "all") {
    used = "all";
    return image;
  }
  if (request.region == "reference") {
    const torch::Tensor reference = toTensor(request.reference).to(scores.device());
    if (reference.dim() != scores.dim() || reference.sizes().slice(2) != scores.sizes().slice(2))
      throw UsageError(fmt::format("the reference has shape {}, the input's grid is {}",
                                   fmt::join(reference.sizes(), "x"),
                                   fmt::join(scores.sizes().slice(2), "x")));
    used = "reference";
    return (reference.select(1, 0).round() == static_cast<double>(c)).to(scores.dtype()) * image;
  }
  if (request.region != "predicted")
    throw UsageError("region '" + request.region + "' is not predicted, all or reference");
  const torch::Tensor predicted = (scores.detach().argmax(1) == c).to(scores.dtype()) * image;
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

// In double: S(x) - S(x') of two nearby inputs cancels most of two sums over every voxel.
torch::Tensor preciseScores(const torch::Tensor& logits, const std::vector<torch::Tensor>& masks,
                            const std::vector<int64_t>& classes, const std::vector<int64_t>& dims) {
  std::vector<torch::Tensor> per_class;
  for (size_t i = 0; i < classes.size(); ++i) {
    const torch::Tensor masked =
        logits.select(1, classes[i]).to(torch::kFloat64) * masks[i].to(torch::kFloat64);
    per_class.push_back(masked.dim() > 1 ? masked.sum(dims) : masked);  // a classifier: (N)
  }
  return torch::stack(per_class, 1);  // (N, classes)
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

using Progress = std::function<void(int64_t done, int64_t total)>;

// map_c(v) = mean over the placements covering v of S_c(x) - S_c(x with the patch set to 0), for
// every class from the same forwards; patches move over `grid`, the image's part of the input.
std::vector<torch::Tensor> occlusionMaps(
    const CapturingForward& forward, const torch::Tensor& input,
    const std::vector<torch::Tensor>& masks, const std::vector<int64_t>& classes,
    const AttributionRequest& request, const std::vector<int64_t>& grid,
    const torch::Tensor& score_at_input, const Progress& progress) {
  if (request.patch < 1 || request.stride < 1)
    throw UsageError("occlusion needs a patch and a stride of at least 1");
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> full = spatialSize(input);
  std::vector<std::vector<int64_t>> placements(1);
  for (const int64_t size : grid) {
    std::vector<std::vector<int64_t>> next;
    for (const auto& p : placements)
      for (const int64_t s : patchStarts(size, request.patch, request.stride)) {
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
  const auto n_classes = static_cast<int64_t>(classes.size());
  std::vector<int64_t> shape = {n_classes};
  shape.insert(shape.end(), full.begin(), full.end());
  torch::Tensor sum = torch::zeros(shape, input.options().dtype(torch::kFloat64)),
                count = torch::zeros(full, input.options());
  std::vector<int64_t> spatial_dims;
  for (size_t d = 0; d < grid.size(); ++d) spatial_dims.push_back(static_cast<int64_t>(1 + d));
  std::vector<int64_t> per_class(1 + grid.size(), 1);
  per_class[0] = n_classes;
  constexpr size_t kBatch = 8;  // placements per forward
  for (size_t first = 0; first < placements.size(); first += kBatch) {
    const size_t n = std::min(kBatch, placements.size() - first);
    std::vector<int64_t> repeats(static_cast<size_t>(input.dim()), 1);
    repeats[0] = static_cast<int64_t>(n);
    torch::Tensor batch = input.repeat(repeats);
    for (size_t b = 0; b < n; ++b)
      patchOf(batch[static_cast<int64_t>(b)], placements[first + b], 1).zero_();
    Activations unused;
    const torch::Tensor drop =
        score_at_input - preciseScores(forward(batch, {}, unused), masks, classes, spatial_dims);
    for (size_t b = 0; b < n; ++b) {
      patchOf(sum, placements[first + b], 1) += drop[static_cast<int64_t>(b)].view(per_class);
      patchOf(count, placements[first + b], 0) += 1.0;
    }
    if (progress)
      progress(static_cast<int64_t>(first + n), static_cast<int64_t>(placements.size()));
  }
  const torch::Tensor maps = (sum / count.clamp_min(1.0)).to(input.dtype());
  std::vector<torch::Tensor> out;
  for (int64_t i = 0; i < n_classes; ++i) out.push_back(maps[i].unsqueeze(0));
  return out;
}

// One class's maps on one input: layer methods a map per layer (1, layer spatial), input methods
// one map (1, spatial).
struct ClassMaps {
  std::vector<torch::Tensor> layers;
  torch::Tensor input;
  double score = 0.0;
  std::optional<double> completeness_error;
};

// The maps of every class of `request` on `input` from shared forwards: one forward and a backward
// per class for the gradient methods (per step for integrated gradients), one set of occluded
// forwards for all classes. `region(logits, i)` is the score's region of the i-th class (1,
// spatial); `grid` the image's part of the input; `logits_out` receives the input's logits.
std::vector<ClassMaps> classMaps(
    const CapturingForward& forward, const torch::Tensor& input, const AttributionRequest& request,
    const std::function<torch::Tensor(const torch::Tensor& logits, size_t i)>& region,
    const std::vector<int64_t>& grid, const Progress& progress, torch::Tensor* logits_out) {
  const bool layer_method = isLayerMethod(request.method);
  const std::vector<int64_t>& classes = request.classes;
  const size_t n = classes.size();
  torch::Tensor x = input.detach().clone().requires_grad_(!layer_method);
  Activations activations;
  const torch::Tensor logits =
      forward(x, layer_method ? request.layers : std::vector<std::string>{}, activations);
  checkClasses(classes, logits.size(1));
  if (logits_out) *logits_out = logits.detach();
  std::vector<torch::Tensor> masks, scores;
  std::vector<ClassMaps> out(n);
  for (size_t i = 0; i < n; ++i) {
    masks.push_back(region(logits.detach(), i));
    scores.push_back(score(logits, masks.back(), classes[i]));
    out[i].score = scores.back().item<double>();
  }
  const auto retain = [&](size_t i) { return i + 1 < n; };  // the graph serves the next class

  if (layer_method) {
    std::vector<torch::Tensor> layers;
    for (const auto& name : request.layers) {
      const auto found = std::find_if(activations.begin(), activations.end(),
                                      [&](const auto& a) { return a.first == name; });
      if (found == activations.end()) throw UsageError("no layer '" + name + "' in this network");
      layers.push_back(found->second);
    }
    for (size_t i = 0; i < n; ++i) {
      // One backward for every layer asked for.
      const std::vector<torch::Tensor> grads =
          torch::autograd::grad({scores[i]}, layers, {}, retain(i), false, true);
      for (size_t l = 0; l < layers.size(); ++l) {
        const torch::Tensor& a = layers[l];
        const torch::Tensor g = grads[l].defined() ? grads[l] : torch::zeros_like(a);
        std::vector<int64_t> spatial_dims;
        for (int64_t d = 2; d < a.dim(); ++d) spatial_dims.push_back(d);
        const torch::Tensor weighted =
            request.method == AttributionMethod::GradCam ? g.mean(spatial_dims, true) * a : g * a;
        out[i].layers.push_back(weighted.sum(1).relu().detach());
      }
    }
    return out;
  }

  std::vector<int64_t> spatial_dims;
  for (int64_t d = 1; d < input.dim() - 1; ++d) spatial_dims.push_back(d);
  if (request.method == AttributionMethod::Occlusion) {
    torch::Tensor at_input;
    {
      torch::NoGradGuard no_grad;
      at_input = preciseScores(logits.detach(), masks, classes, spatial_dims);
    }
    const std::vector<torch::Tensor> maps =
        occlusionMaps(forward, input, masks, classes, request, grid, at_input, progress);
    for (size_t i = 0; i < n; ++i) out[i].input = maps[i];
  } else if (request.method == AttributionMethod::IntegratedGradients) {
    if (request.steps < 1) throw UsageError("integrated gradients need at least one step");
    // Right Riemann sum from the baseline 0, with the regions fixed at the input's.
    const torch::Tensor base = torch::zeros_like(input);
    std::vector<torch::Tensor> totals(n, torch::zeros_like(input));
    for (int step = 1; step <= request.steps; ++step) {
      torch::Tensor xi = (base + (static_cast<double>(step) / request.steps) * (input - base))
                             .detach()
                             .requires_grad_(true);
      Activations unused;
      const torch::Tensor li = forward(xi, {}, unused);
      for (size_t i = 0; i < n; ++i)
        totals[i] = totals[i] + torch::autograd::grad({score(li, masks[i], classes[i])}, {xi}, {},
                                                      retain(i))[0];
      if (progress) progress(step, request.steps);
    }
    torch::Tensor at_base;
    {
      torch::NoGradGuard no_grad;
      Activations unused;
      at_base = forward(base, {}, unused);
    }
    for (size_t i = 0; i < n; ++i) {
      const torch::Tensor ig = (input - base) * totals[i] / static_cast<double>(request.steps);
      const double delta = out[i].score - score(at_base, masks[i], classes[i]).item<double>();
      out[i].completeness_error =
          std::abs(ig.sum().item<double>() - delta) / std::max(std::abs(delta), 1e-12);
      out[i].input = ig.sum(1).detach();
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      const torch::Tensor g = torch::autograd::grad({scores[i]}, {x}, {}, retain(i))[0];
      out[i].input =
          (request.method == AttributionMethod::Gradient ? g.abs().amax(1) : (g * input).sum(1))
              .detach();
    }
  }
  return out;
}

// A map (1, spatial) cropped to its first `size` voxels per axis.
torch::Tensor crop(const torch::Tensor& map, const std::vector<int64_t>& size) {
  return windowOf(map.unsqueeze(1), std::vector<int64_t>(size.size(), 0), size).squeeze(1);
}

// Windows: each window explains the score over its part of the region (decided on the whole
// input, "predicted" from the blended prediction); maps are blended with the prediction's weights
// (layer maps on their own grid, then resampled), scores from the blended logits.
std::vector<AttributionResult> attributeWindows(const CapturingForward& forward,
                                                const torch::Tensor& input,
                                                const AttributionRequest& request) {
  const std::vector<int64_t> full = spatialSize(input);
  const std::vector<int64_t> alignment =
      request.alignment.empty() ? std::vector<int64_t>(full.size(), 1) : request.alignment;
  const WindowPlan plan = planWindows(full, request.window, request.overlap, alignment);
  const std::vector<int64_t> extent = request.extent.empty() ? full : request.extent;
  const size_t n = request.classes.size();

  // The regions over the whole input, padded with the volume.
  std::vector<std::string> used(n);
  std::vector<torch::Tensor> regions;
  {
    torch::NoGradGuard no_grad;
    torch::Tensor scores = torch::zeros(input.sizes(), input.options()).narrow(1, 0, 1);
    if (request.region == "predicted") {
      const auto network = [&](const torch::Tensor& patch) {
        Activations unused;
        zoo::NetworkOutput out;
        out.logits = forward(patch, {}, unused);
        return out;
      };
      scores = crop(slidingWindow(network, input, request.window, request.overlap, alignment)
                        .probabilities.squeeze(0),
                    full)
                   .unsqueeze(0);
      checkClasses(request.classes, scores.size(1));
    }
    for (size_t i = 0; i < n; ++i)
      regions.push_back(
          plan.pad(regionMask(scores, request, request.classes[i], used[i]).unsqueeze(1)));
  }

  const torch::Tensor volume = plan.pad(input);
  const torch::Tensor importance = windowImportance(plan.window, volume.options());
  const auto placements = plan.placements();
  std::optional<MapBlend> logits;
  std::vector<std::vector<MapBlend>> blends(n);  // per class: per layer, or the input map
  std::vector<std::optional<double>> completeness(n);
  for (size_t w = 0; w < placements.size(); ++w) {
    const auto& at = placements[w];
    std::vector<int64_t> part;
    for (size_t a = 0; a < at.size(); ++a)
      part.push_back(std::clamp<int64_t>(extent[a] - at[a], 1, plan.window[a]));
    const Progress inner = [&](int64_t done, int64_t total) {
      if (request.progress)
        request.progress(static_cast<int64_t>(w) * total + done,
                         static_cast<int64_t>(placements.size()) * total);
    };
    torch::Tensor window_logits;
    const std::vector<ClassMaps> maps = classMaps(
        forward, windowOf(volume, at, plan.window).contiguous(), request,
        [&](const torch::Tensor&, size_t i) {
          return windowOf(regions[i], at, plan.window).squeeze(1);
        },
        part, inner, &window_logits);
    if (!logits) logits.emplace(window_logits, plan.window, plan.padded);
    logits->add(window_logits, at, plan.window, importance);
    for (size_t i = 0; i < n; ++i) {
      std::vector<torch::Tensor> parts = maps[i].layers;
      if (parts.empty()) parts.push_back(maps[i].input);
      if (blends[i].empty())
        for (const auto& p : parts)
          blends[i].emplace_back(p.unsqueeze(1), plan.window, plan.padded);
      for (size_t m = 0; m < parts.size(); ++m)
        blends[i][m].add(parts[m].unsqueeze(1), at, plan.window, importance);
      if (maps[i].completeness_error)
        completeness[i] = std::max(completeness[i].value_or(0.0), *maps[i].completeness_error);
    }
    if (request.progress && !(request.method == AttributionMethod::IntegratedGradients ||
                              request.method == AttributionMethod::Occlusion))
      request.progress(static_cast<int64_t>(w + 1), static_cast<int64_t>(placements.size()));
  }

  const torch::Tensor blended_logits = logits->blended();
  std::vector<AttributionResult> results(n);
  for (size_t i = 0; i < n; ++i) {
    AttributionResult& result = results[i];
    result.region = used[i];
    result.score = score(crop(blended_logits.squeeze(0), full).unsqueeze(0),
                         crop(regions[i].squeeze(1), full), request.classes[i])
                       .item<double>();
    result.completeness_error = completeness[i];
    if (isLayerMethod(request.method)) {
      for (size_t l = 0; l < request.layers.size(); ++l) {
        const torch::Tensor native = blends[i][l].blended().squeeze(1);
        addMap(result.native, request.layers[l], native);
        addMap(result.maps, request.layers[l], crop(resample(native, plan.padded), full));
      }
    } else {
      addMap(result.maps, "input", crop(blends[i][0].blended().squeeze(1), full));
    }
  }
  return results;
}

}  // namespace

std::vector<LayerInfo> measureLayers(
    const std::function<void(const torch::Tensor& input, Activations& activations)>& run,
    const ModelInfo& info, const torch::Device& device) {
  torch::InferenceMode inference;
  std::vector<int64_t> shape = {1, info.in_channels};
  // A classifier takes any size (its multiple is 1): 64 per axis goes through its poolings.
  const int64_t least = info.task == "classification" ? 64 : 1;
  for (int a = 0; a < info.dimensions; ++a)
    shape.push_back(std::max(least, info.size_multiple[static_cast<size_t>(a)]));
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

std::vector<AttributionResult> attribute(const CapturingForward& forward,
                                         const torch::Tensor& input,
                                         const AttributionRequest& request) {
  torch::AutoGradMode grad(true);
  if (isLayerMethod(request.method) && request.layers.empty())
    throw UsageError("a layer method needs at least one layer");
  const std::vector<int64_t> full = spatialSize(input);
  if (!request.extent.empty()) {
    bool fits = request.extent.size() == full.size();
    for (size_t a = 0; fits && a < request.extent.size(); ++a)
      fits = request.extent[a] >= 1 && request.extent[a] <= full[a];
    if (!fits)
      throw UsageError(fmt::format("the image extent {} does not fit the input's grid {}",
                                   fmt::join(request.extent, "x"), fmt::join(full, "x")));
  }
  if (!request.window.empty()) return attributeWindows(forward, input, request);

  const size_t n = request.classes.size();
  std::vector<std::string> used(n);
  const std::vector<ClassMaps> maps = classMaps(
      forward, input, request,
      [&](const torch::Tensor& logits, size_t i) {
        return regionMask(logits, request, request.classes[i], used[i]);
      },
      request.extent.empty() ? full : request.extent, request.progress, nullptr);
  std::vector<AttributionResult> results(n);
  for (size_t i = 0; i < n; ++i) {
    AttributionResult& result = results[i];
    result.region = used[i];
    result.score = maps[i].score;
    result.completeness_error = maps[i].completeness_error;
    for (size_t l = 0; l < maps[i].layers.size(); ++l) {
      addMap(result.native, request.layers[l], maps[i].layers[l]);
      addMap(result.maps, request.layers[l], resample(maps[i].layers[l], full));
    }
    if (maps[i].input.defined()) addMap(result.maps, "input", maps[i].input);
  }
  return results;
}

}  // namespace gatescope::attribution
