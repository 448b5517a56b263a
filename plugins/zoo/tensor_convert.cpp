#include "plugins/zoo/tensor_convert.hpp"

#include <ATen/autocast_mode.h>
#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "analysis/attention/gate_resampling.hpp"
#include "analysis/classification/head_aggregation.hpp"
#include "analysis/core/error.hpp"
#include "analysis/core/image_statistics.hpp"
#include "plugins/runtime/device_memory.hpp"
#include "plugins/zoo/memory_plan.hpp"
#include "plugins/zoo/sliding_window.hpp"

namespace gatescope {

namespace F = torch::nn::functional;

torch::Tensor toTensor(const TensorData& data) {
  return torch::from_blob(const_cast<float*>(data.values.data()), data.shape, torch::kFloat32)
      .clone();
}

TensorData toTensorData(const torch::Tensor& tensor) {
  const torch::Tensor t = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
  TensorData out{t.sizes().vec(), std::vector<float>(static_cast<size_t>(t.numel()))};
  std::memcpy(out.values.data(), t.data_ptr<float>(), out.values.size() * sizeof(float));
  return out;
}

namespace {

// (C, i, j[, k]) tensor <-> volume memory [c][k][j][i].
torch::Tensor volumeToTensor(const Volume<float>& v, int dimensions) {
  const auto& d = v.dims();
  torch::Tensor t = torch::from_blob(const_cast<float*>(v.data()), {v.channels(), d[2], d[1], d[0]},
                                     torch::kFloat32);
  t = t.permute({0, 3, 2, 1});
  if (dimensions == 2) t = t.select(3, 0);
  return t.contiguous();
}

// Network layout (C, i, j, k), k fastest, to volume layout [c][k][j][i], i fastest: a transpose of
// i and k per channel, in cache-sized tiles (a generic strided copy is several times slower).
Volume<float> tensorToVolume(torch::Tensor t, const Geometry& g) {
  if (t.dim() == 3) t = t.unsqueeze(3);
  if (t.is_cuda()) {
    // On a GPU the transpose costs nothing next to the copy: transpose there, copy once.
    const torch::Tensor layout = t.to(torch::kFloat32).permute({0, 3, 2, 1}).contiguous();
    Volume<float> v(g, layout.size(0));
    torch::from_blob(v.data(), layout.sizes(), torch::kFloat32).copy_(layout);
    return v;
  }
  t = t.to(torch::kCPU, torch::kFloat32).contiguous();
  const int64_t channels = t.size(0), ni = t.size(1), nj = t.size(2), nk = t.size(3);
  Volume<float> v(g, channels);
  const float* src = t.data_ptr<float>();
  float* dst = v.data();
  constexpr int64_t kTile = 32;
#pragma omp parallel for collapse(2) schedule(static)
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t j = 0; j < nj; ++j) {
      const float* in = src + c * ni * nj * nk + j * nk;
      float* out = dst + c * ni * nj * nk + j * ni;
      for (int64_t i0 = 0; i0 < ni; i0 += kTile)
        for (int64_t k0 = 0; k0 < nk; k0 += kTile)
          for (int64_t i = i0; i < std::min(ni, i0 + kTile); ++i)
            for (int64_t k = k0; k < std::min(nk, k0 + kTile); ++k)
              out[k * ni * nj + i] = in[i * nj * nk + k];
    }
  return v;
}

// The most probable class per voxel, from probabilities already in volume layout.
Volume<uint8_t> argmaxLabels(const Volume<float>& probabilities) {
  Volume<uint8_t> labels(probabilities.geometry());
  const int64_t n = probabilities.voxelsPerChannel();
  const int64_t classes = probabilities.channels();
  const float* p = probabilities.data();
  uint8_t* out = labels.data();
#pragma omp parallel for schedule(static)
  for (int64_t v = 0; v < n; ++v) {
    int64_t best = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (p[c * n + v] > p[best * n + v]) best = c;
    out[v] = static_cast<uint8_t>(best);
  }
  return labels;
}

torch::Tensor cropSpatial(const torch::Tensor& t, const Index3& size, int dimensions) {
  torch::Tensor out = t;
  for (int a = 0; a < dimensions; ++a) out = out.narrow(2 + a, 0, size[static_cast<size_t>(a)]);
  return out;
}

// A map (1, C, padded / stride) on its own grid: each of its voxels covers `stride` input voxels
// and its centre sits (stride-1)/2 in. Returns the voxels that cover the image; `full` receives
// the geometry of the whole grid, padding included.
Volume<float> onOwnGrid(const torch::Tensor& map, const std::vector<int64_t>& padded,
                        const Index3& original, const Geometry& geometry, Geometry& full) {
  const int dimensions = static_cast<int>(padded.size());
  Index3 stride{1, 1, 1}, covered{1, 1, 1}, whole{1, 1, 1};
  for (int a = 0; a < dimensions; ++a) {
    const auto axis = static_cast<size_t>(a);
    stride[axis] = padded[axis] / map.size(2 + a);
    covered[axis] = (original[axis] + stride[axis] - 1) / stride[axis];
    whole[axis] = map.size(2 + a);
  }
  full = strideGrid(geometry, stride, whole);
  return tensorToVolume(cropSpatial(map, covered, dimensions)[0],
                        strideGrid(geometry, stride, covered));
}

}  // namespace

namespace {

// Volume layout (C, k, j, i) to the network's (C, i, j[, k]).
torch::Tensor toNetworkLayout(const torch::Tensor& volume_layout, int dimensions) {
  torch::Tensor t = volume_layout.permute({0, 3, 2, 1});
  if (dimensions == 2) t = t.select(3, 0);
  return t.contiguous();
}

// The upload on a CUDA stream of its own, so that it overlaps whatever the device computes; the
// event tells the stream that uses the input when it has arrived.
void uploadAhead(TorchPreparedImage& image, const torch::Device& device) {
  const c10::impl::VirtualGuardImpl cuda(device.type());
  const c10::Stream copy = cuda.getStreamFromGlobalPool(device);
  const c10::StreamGuard on_copy(copy);
  image.device = toNetworkLayout(image.host.to(device, /*non_blocking=*/true), image.dimensions);
  image.ready = std::make_shared<c10::Event>(device.type());
  image.ready->record(copy);
}

// Work on the current stream waits for the upload, and the caching allocator keeps the input's
// memory until that work has finished (it was allocated on the copy stream).
void waitForUpload(const TorchPreparedImage& image) {
  const c10::impl::VirtualGuardImpl cuda(image.device.device().type());
  const c10::Stream current = cuda.getStream(image.device.device());
  image.ready->block(current);
  cuda.recordDataPtrOnStream(image.device.storage().data_ptr(), current);
}

}  // namespace

std::shared_ptr<TorchPreparedImage> prepareImage(Volume<float> real, const ModelInfo& info,
                                                 const torch::Device& device, bool upload) {
  if (info.preprocessing.normalize == "zscore") normalizeZScore(real);
  auto prepared = std::make_shared<TorchPreparedImage>();
  prepared->geometry = real.geometry();
  prepared->dimensions = info.dimensions;
  if (device.is_cuda()) {
    // The volume as it lies, in page-locked memory: its copy runs at the bus's full speed and
    // without a staging copy in the driver; the transpose runs on the device. The caching host
    // allocator keeps the page-locked block until a copy from it has finished.
    const auto& d = real.dims();
    const torch::Tensor pageable =
        torch::from_blob(real.data(), {real.channels(), d[2], d[1], d[0]}, torch::kFloat32);
    prepared->host = torch::empty(pageable.sizes(), pageable.options().pinned_memory(true));
    prepared->host.copy_(pageable);
    prepared->volume_layout = true;
    if (upload) uploadAhead(*prepared, device);
  } else {
    prepared->host = volumeToTensor(real, info.dimensions);
  }
  return prepared;
}

PreparedInput networkInput(const TorchPreparedImage& image, const ModelInfo& info, bool for_windows,
                           const torch::Device& target) {
  torch::Tensor t;
  if (target.is_cuda() && image.device.defined()) {
    waitForUpload(image);
    t = image.device;
  } else if (image.volume_layout) {
    t = toNetworkLayout(image.host.to(target, /*non_blocking=*/true), info.dimensions);
  } else {
    t = image.host.to(target);
  }
  t = t.unsqueeze(0);
  PreparedInput prepared;
  prepared.original = image.geometry.dims;
  std::vector<int64_t> pad;  // F.pad order: last axis first, (before, after)
  const Index3 padded = for_windows ? prepared.original : paddedDims(prepared.original, info);
  for (int a = info.dimensions - 1; a >= 0; --a) {
    const auto axis = static_cast<size_t>(a);
    const int64_t size = padded[axis];
    prepared.padded[axis] = size;
    pad.push_back(0);
    pad.push_back(size - prepared.original[axis]);
  }
  if (info.dimensions == 2) prepared.padded[2] = 1;
  prepared.tensor = torch::constant_pad_nd(t, pad, 0.0);
  return prepared;
}

PreparedInput prepareInput(const Volume<float>& image, const ModelInfo& info, bool for_windows,
                           const torch::Device& device) {
  return networkInput(*prepareImage(image, info, device, false), info, for_windows, device);
}

std::vector<GatePrediction> gatePredictions(const std::vector<zoo::GateOutput>& gate_outputs,
                                            const std::vector<int64_t>& padded,
                                            const Index3& original, const Geometry& geometry,
                                            bool align_corners) {
  const int dimensions = static_cast<int>(padded.size());
  std::vector<GatePrediction> out;
  for (const zoo::GateOutput& gate : gate_outputs) {
    GatePrediction g;
    g.name = gate.name;
    Geometry full;
    g.native = onOwnGrid(gate.alpha, padded, original, geometry, full);
    if (gate.coarse.defined()) {
      Geometry unused;
      g.coarse = onOwnGrid(gate.coarse, padded, original, geometry, unused);
    }
    Index3 target{1, 1, 1};
    std::copy(padded.begin(), padded.end(), target.begin());
    if (gate.alpha.is_cuda() || dimensions == 2) {
      // F.interpolate on the device, then the crop: the same values as interpolateLinear (which
      // the tests check against F.interpolate), without moving the map to the CPU first; in 2D
      // on the CPU too, where LibTorch's kernel is the faster (a classifier's two maps per image).
      std::vector<int64_t> size(padded.begin(), padded.end());
      auto options =
          torch::nn::functional::InterpolateFuncOptions().size(size).align_corners(align_corners);
      if (dimensions == 3)
        options.mode(torch::kTrilinear);
      else
        options.mode(torch::kBilinear);
      const torch::Tensor up =
          torch::nn::functional::interpolate(gate.alpha.to(torch::kFloat32), options);
      g.resampled = tensorToVolume(cropSpatial(up, original, dimensions)[0], geometry);
    } else {
      g.resampled =
          interpolateLinear(tensorToVolume(gate.alpha[0], full), target, geometry, align_corners);
    }
    out.push_back(std::move(g));
  }
  return out;
}

Prediction finishPrediction(const torch::Tensor& padded_probabilities,
                            const std::vector<zoo::GateOutput>& gate_outputs,
                            const std::vector<int64_t>& padded, const Index3& original,
                            const Geometry& geometry, bool align_corners, bool keep_probabilities,
                            const std::string& source) {
  const int dimensions = static_cast<int>(padded_probabilities.dim()) - 2;
  Prediction p;
  const torch::Tensor probabilities = cropSpatial(padded_probabilities, original, dimensions)[0];
  // Finite inputs and weights can still overflow: never hand on NaN probabilities as labels.
  const int64_t bad = probabilities.numel() - torch::isfinite(probabilities).sum().item<int64_t>();
  if (bad > 0)
    throw Error(fmt::format(
        "{}: the model produced {} non-finite class probabilities (NaN or infinity) for a finite "
        "input: its weights or activations overflow",
        source, bad));
  if (keep_probabilities) p.probabilities = tensorToVolume(probabilities, geometry);
  if (probabilities.is_cuda() || !keep_probabilities) {
    // torch.argmax keeps the first of equal maxima, as argmaxLabels does.
    torch::Tensor labels = probabilities.argmax(0).to(torch::kUInt8);
    if (labels.dim() == 2) labels = labels.unsqueeze(2);
    labels = labels.permute({2, 1, 0}).contiguous();
    p.labels = Volume<uint8_t>(geometry);
    torch::from_blob(p.labels.data(), labels.sizes(), torch::kUInt8).copy_(labels);
  } else {
    p.labels = argmaxLabels(p.probabilities);
  }

  const auto gates_start = std::chrono::steady_clock::now();
  p.gates = gatePredictions(gate_outputs, padded, original, geometry, align_corners);
  p.gate_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - gates_start).count();
  return p;
}

namespace {

// Mixed precision for the network on CUDA (fp16 or bf16 autocast), restored on scope exit.
class AutocastScope {
 public:
  AutocastScope(const std::string& precision, const torch::Device& device) {
    if (precision == "fp32") return;
    if (precision != "fp16" && precision != "bf16")
      throw UsageError("--precision " + precision + ": expected fp32, fp16 or bf16");
    if (!device.is_cuda())
      throw UsageError("--precision " + precision + " is autocast on CUDA; this run is on " +
                       device.str());
    at::autocast::set_autocast_gpu_dtype(precision == "fp16" ? at::kHalf : at::kBFloat16);
    at::autocast::set_enabled(true);
    active_ = true;
  }
  ~AutocastScope() {
    if (!active_) return;
    at::autocast::set_enabled(false);
    at::autocast::clear_cache();
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
};

// A LibTorch failure of a prediction as a one-line Error; out of memory says what to change.
[[noreturn]] void throwInferenceError(const c10::Error& e, const torch::Device& device,
                                      const Index3& dims, size_t batch) {
  const std::string what = e.what_without_backtrace();
  if (what.find("out of memory") != std::string::npos && batch > 1)
    throw Error(
        fmt::format("out of memory on {} for a batch of {} {}x{}x{} inputs: use a smaller "
                    "--batch",
                    device.str(), batch, dims[0], dims[1], dims[2]));
  if (what.find("out of memory") != std::string::npos)
    throw Error(fmt::format(
        "out of memory on {} for a {}x{}x{} input: use --memory-budget (or --window with smaller "
        "windows, --window-buffers host), or --device cpu",
        device.str(), dims[0], dims[1], dims[2]));
  throw Error("inference failed: " + what.substr(0, what.find('\n')));
}

// The memory plan of a prediction (docs/scaling.md#memory-safe-inference): on CUDA or under a
// budget, the whole volume when its forward fits, else sliding windows sized to fit with their
// blending buffers on the device or in host memory; otherwise what the options say.
MemoryUse planPrediction(const NetworkRunner& run, const Index3& image_dims,
                         const PredictOptions& options, const ModelInfo& info,
                         const std::vector<int64_t>& alignment, const torch::Device& device) {
  if (options.window_buffers != "auto" && options.window_buffers != "device" &&
      options.window_buffers != "host")
    throw UsageError("--window-buffers " + options.window_buffers +
                     ": expected auto, device or host");
  MemoryUse memory;
  memory.window = options.window;
  memory.buffers = options.window_buffers == "host" && !options.window.empty() ? "host" : "device";
  memory.planned = options.memory_budget > 0 || device.is_cuda();
  if (memory.planned) {
    memory.budget =
        options.memory_budget > 0 ? options.memory_budget : freeDeviceBytes(device) / 10 * 9;
    const Index3 dims = paddedDims(image_dims, info);
    const std::vector<int64_t> padded(dims.begin(), dims.begin() + info.dimensions);
    int64_t channels = info.in_channels + info.n_classes + 1;
    if (options.capture_gates) channels += static_cast<int64_t>(info.gates.size());
    const MemoryPlan plan =
        planMemory(forwardMemory(run, info, device, alignment, options.capture_gates), padded,
                   options.window, alignment, channels, options.window_buffers, memory.budget);
    memory.window = plan.window;
    memory.buffers = plan.host_buffers ? "host" : "device";
    memory.estimated_peak = plan.estimated_peak;
  } else if (options.window_buffers == "host" && options.window.empty()) {
    // Host buffers without a budget: windows as large as the whole (padded) volume.
    const Index3 dims = paddedDims(image_dims, info);
    memory.window.assign(dims.begin(), dims.begin() + info.dimensions);
    memory.buffers = "host";
  }
  memory.plan = memory.window.empty() ? "whole" : "windows";
  return memory;
}

// One pass or sliding windows over a prepared input, as `memory` planned.
Prediction predictPrepared(const NetworkRunner& run, const torch::Tensor& input,
                           const PreparedInput& prepared, const Geometry& geometry,
                           const PredictOptions& options, const MemoryUse& memory,
                           const ModelInfo& info, const std::vector<int64_t>& alignment,
                           bool align_corners, const torch::Device& device) {
  if (memory.window.empty()) {
    zoo::NetworkOutput out = run(input, options.capture_gates);
    for (auto& gate : out.gates) {
      gate.alpha = gate.alpha.to(torch::kFloat32);
      if (!options.capture_coarse) gate.coarse = torch::Tensor();
      if (gate.coarse.defined()) gate.coarse = gate.coarse.to(torch::kFloat32);
    }
    std::vector<int64_t> padded(prepared.padded.begin(), prepared.padded.begin() + info.dimensions);
    return finishPrediction(torch::softmax(out.logits.to(torch::kFloat32), 1), out.gates, padded,
                            prepared.original, geometry, align_corners, options.keep_probabilities,
                            info.source);
  }
  const BlendedOutput blended = slidingWindow(
      [&](const torch::Tensor& patch) {
        zoo::NetworkOutput out = run(patch, options.capture_gates);
        if (!options.capture_coarse)
          for (auto& gate : out.gates) gate.coarse = torch::Tensor();
        return out;
      },
      input, memory.window, options.overlap, alignment,
      memory.buffers == "host" ? std::optional<torch::Device>(device) : std::nullopt);
  return finishPrediction(blended.probabilities, blended.gates, blended.padded, prepared.original,
                          geometry, align_corners, options.keep_probabilities, info.source);
}

}  // namespace

namespace {

// The image ready for the network: as prepared ahead, else prepared now.
std::shared_ptr<TorchPreparedImage> preparedFor(const Image& image,
                                                const std::shared_ptr<PreparedImage>& ahead,
                                                const ModelInfo& info,
                                                const torch::Device& device) {
  if (auto prepared = std::dynamic_pointer_cast<TorchPreparedImage>(ahead)) return prepared;
  Volume<float> real = toFloatVolume(image);
  checkModelInput(real, info);
  return prepareImage(std::move(real), info, device, false);
}

Prediction predictOne(const NetworkRunner& run, const TorchPreparedImage& image,
                      const PredictOptions& options, const ModelInfo& info, bool align_corners,
                      const torch::Device& device, std::chrono::steady_clock::time_point start) {
  const std::vector<int64_t> alignment = windowAlignment(info, options.capture_coarse);
  MemoryUse memory = planPrediction(run, image.geometry.dims, options, info, alignment, device);
  const bool host = memory.buffers == "host";
  const PreparedInput prepared =
      networkInput(image, info, !memory.window.empty(), host ? torch::Device(torch::kCPU) : device);
  Prediction prediction;
  AutocastScope autocast(options.precision, device);
  try {
    memory.measured_peak = peakBytesDuring(device, [&] {
      prediction = predictPrepared(run, prepared.tensor, prepared, image.geometry, options, memory,
                                   info, alignment, align_corners, device);
    });
    if (!memory.planned) memory.measured_peak = -1;
  } catch (const c10::Error& e) {
    throwInferenceError(e, device, prepared.original, 1);
  }
  prediction.memory = memory;
  prediction.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return prediction;
}

}  // namespace

Prediction runPrediction(const NetworkRunner& run, const Image& image,
                         const PredictOptions& options, const ModelInfo& info, bool align_corners,
                         const torch::Device& device) {
  return runPredictionBatch(run, {&image}, {}, options, info, align_corners, device).front();
}

std::vector<Prediction> runPredictionBatch(const NetworkRunner& run,
                                           const std::vector<const Image*>& images,
                                           const std::vector<std::shared_ptr<PreparedImage>>& ahead,
                                           const PredictOptions& options, const ModelInfo& info,
                                           bool align_corners, const torch::Device& device) {
  const auto start = std::chrono::steady_clock::now();
  torch::InferenceMode inference;
  std::vector<Prediction> predictions;
  const auto oneByOne = [&](std::vector<std::shared_ptr<TorchPreparedImage>> prepared) {
    for (size_t i = 0; i < images.size(); ++i) {
      const auto image_start = i == 0 ? start : std::chrono::steady_clock::now();
      if (i >= prepared.size())
        prepared.push_back(
            preparedFor(*images[i], i < ahead.size() ? ahead[i] : nullptr, info, device));
      predictions.push_back(
          predictOne(run, *prepared[i], options, info, align_corners, device, image_start));
      prepared[i].reset();
    }
  };
  if (images.size() < 2 || !options.window.empty() || options.window_buffers == "host") {
    oneByOne({});
    return predictions;
  }
  std::vector<std::shared_ptr<TorchPreparedImage>> prepared;
  for (size_t i = 0; i < images.size(); ++i) {
    prepared.push_back(
        preparedFor(*images[i], i < ahead.size() ? ahead[i] : nullptr, info, device));
    if (prepared.back()->geometry.dims != prepared.front()->geometry.dims) {
      oneByOne(std::move(prepared));
      return predictions;
    }
  }
  const std::vector<int64_t> alignment = windowAlignment(info, options.capture_coarse);
  MemoryUse memory =
      planPrediction(run, prepared.front()->geometry.dims, options, info, alignment, device);
  const auto n = static_cast<int64_t>(images.size());
  if (memory.plan != "whole" || (memory.planned && memory.estimated_peak * n > memory.budget)) {
    oneByOne(std::move(prepared));
    return predictions;
  }
  memory.estimated_peak *= n;
  std::vector<torch::Tensor> inputs;
  PreparedInput input;
  for (const auto& image : prepared) {
    input = networkInput(*image, info, false, device);
    inputs.push_back(input.tensor);
  }
  const torch::Tensor batch = torch::cat(inputs, 0);
  inputs.clear();
  const std::vector<int64_t> padded(input.padded.begin(), input.padded.begin() + info.dimensions);
  AutocastScope autocast(options.precision, device);
  try {
    memory.measured_peak = peakBytesDuring(device, [&] {
      zoo::NetworkOutput out = run(batch, options.capture_gates);
      const torch::Tensor probabilities = torch::softmax(out.logits.to(torch::kFloat32), 1);
      for (int64_t b = 0; b < n; ++b) {
        std::vector<zoo::GateOutput> gates;
        for (const auto& gate : out.gates)
          gates.push_back({gate.name, gate.alpha.narrow(0, b, 1).to(torch::kFloat32),
                           options.capture_coarse && gate.coarse.defined()
                               ? gate.coarse.narrow(0, b, 1).to(torch::kFloat32)
                               : torch::Tensor()});
        predictions.push_back(
            finishPrediction(probabilities.narrow(0, b, 1), gates, padded, input.original,
                             prepared[static_cast<size_t>(b)]->geometry, align_corners,
                             options.keep_probabilities, info.source));
      }
    });
    if (!memory.planned) memory.measured_peak = -1;
  } catch (const c10::Error& e) {
    throwInferenceError(e, device, input.original, images.size());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  for (Prediction& prediction : predictions) {
    prediction.memory = memory;
    prediction.seconds = seconds / static_cast<double>(n);
  }
  return predictions;
}

std::shared_ptr<PreparedImage> prepareAhead(const Image& image, const PredictOptions& options,
                                            const ModelInfo& info, const torch::Device& device) {
  Volume<float> real = toFloatVolume(image);
  checkModelInput(real, info);
  // Up to the device ahead only where the plan cannot need the memory: no budget to keep, no
  // buffers in host memory, and a small input (a twentieth of what is free).
  const bool upload =
      device.is_cuda() && options.memory_budget == 0 && options.window_buffers != "host" &&
      real.size() * static_cast<int64_t>(sizeof(float)) * 20 <= freeDeviceBytes(device);
  return prepareImage(std::move(real), info, device, upload);
}

}  // namespace gatescope

namespace gatescope {

Classification runClassification(const NetworkRunner& run, const Image& image, bool capture_gates,
                                 const ModelInfo& info, const HeadAggregator& aggregate,
                                 const torch::Device& device, const std::string& source) {
  const auto start = std::chrono::steady_clock::now();
  torch::InferenceMode inference;
  const Volume<float> real = toModelChannels(toFloatVolume(image), info.in_channels);
  checkModelInput(real, info);
  // No padding: the global pooling takes any size, and zeros would change the answer.
  const PreparedInput prepared = prepareInput(real, info, /*for_windows=*/true, device);
  Classification c;
  try {
    // A classifier sees an image as Python reads the file (docs/models.md): a PNG as PIL and
    // numpy hold it, (row, column), a NIfTI as nibabel does, (i, j); its gate maps come back to
    // the image's (i, j) grid.
    const bool picture = image.header.format == ImageFormat::Png;
    const torch::Tensor input = picture ? prepared.tensor.transpose(2, 3) : prepared.tensor;
    zoo::NetworkOutput out = run(input.contiguous().to(device), capture_gates);
    for (auto& gate : out.gates) {
      if (picture) gate.alpha = gate.alpha.transpose(2, 3);
      gate.coarse = torch::Tensor();  // the gates sub-sample by 1: the map is their grid
    }
    c.head_names = info.heads;
    for (const torch::Tensor& head : out.heads) {
      const torch::Tensor logits = head.to(torch::kCPU, torch::kFloat64).contiguous()[0];
      std::vector<double> values(logits.data_ptr<double>(),
                                 logits.data_ptr<double>() + logits.numel());
      for (const double v : values)
        if (!std::isfinite(v))
          throw Error(source + ": the model produced non-finite logits for a finite input");
      c.head_probabilities.push_back(softmax(values));
    }
    c.probabilities = aggregate(c.head_probabilities);
    c.predicted_class = static_cast<int>(
        std::max_element(c.probabilities.begin(), c.probabilities.end()) - c.probabilities.begin());
    std::vector<int64_t> grid(prepared.padded.begin(), prepared.padded.begin() + 2);
    c.gates = gatePredictions(out.gates, grid, prepared.original, real.geometry(), false);
  } catch (const c10::Error& e) {
    const std::string what = e.what_without_backtrace();
    throw Error("classification failed: " + what.substr(0, what.find('\n')));
  }
  c.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return c;
}

}  // namespace gatescope
