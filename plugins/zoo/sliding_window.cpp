#include "plugins/zoo/sliding_window.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>

#include "analysis/core/error.hpp"

namespace gatescope {

// Separable Gaussian importance over a window of `size` voxels (sigma = size / 8), lowered by its
// value half a voxel beyond the window so that it falls to (almost) zero at the window's edge:
// a neighbour's least reliable border voxels then cannot leave a step where a window ends. A tiny
// floor keeps every voxel's weight positive.
torch::Tensor windowImportance(const std::vector<int64_t>& size,
                               const torch::TensorOptions& options) {
  torch::Tensor map = torch::ones({1}, options);
  for (const int64_t n : size) {
    const double sigma = static_cast<double>(n) / 8.0;
    const double half = static_cast<double>(n) / 2.0;
    const torch::Tensor x = torch::arange(n, options).sub((static_cast<double>(n) - 1.0) / 2.0);
    const torch::Tensor g = torch::exp(-(x * x) / (2.0 * sigma * sigma)) -
                            std::exp(-(half * half) / (2.0 * sigma * sigma));
    map = map.unsqueeze(-1) * g;
  }
  map = map.squeeze(0);
  return torch::clamp_min(map / map.max(), 1e-8);
}

WindowPlan planWindows(const std::vector<int64_t>& size, const std::vector<int64_t>& window,
                       double overlap, const std::vector<int64_t>& alignment) {
  const size_t dims = size.size();
  if (window.size() != dims)
    throw UsageError(
        fmt::format("--window needs {} sizes for this model, got {}", dims, window.size()));
  if (!(overlap >= 0.0 && overlap < 1.0))
    throw UsageError(fmt::format("--overlap {} must be in [0, 1)", overlap));
  WindowPlan plan;
  plan.window = window;
  for (size_t a = 0; a < dims; ++a) {
    if (window[a] < alignment[a] || window[a] % alignment[a] != 0)
      throw UsageError(fmt::format("--window: {} along axis {} must be a multiple of {}", window[a],
                                   a, alignment[a]));
    const auto raw_step =
        static_cast<int64_t>(std::floor(static_cast<double>(window[a]) * (1.0 - overlap)));
    plan.step.push_back(std::max(alignment[a], raw_step / alignment[a] * alignment[a]));
    const int64_t extra = std::max<int64_t>(0, size[a] - window[a]);
    plan.padded.push_back(window[a] + (extra + plan.step[a] - 1) / plan.step[a] * plan.step[a]);
    std::vector<int64_t> axis;
    for (int64_t p = 0; p + window[a] <= plan.padded[a]; p += plan.step[a]) axis.push_back(p);
    plan.starts.push_back(axis);
  }
  return plan;
}

std::vector<std::vector<int64_t>> WindowPlan::placements() const {
  std::vector<std::vector<int64_t>> out;
  std::vector<size_t> index(starts.size(), 0);
  while (true) {
    std::vector<int64_t> at(starts.size());
    for (size_t a = 0; a < starts.size(); ++a) at[a] = starts[a][index[a]];
    out.push_back(at);
    size_t a = 0;
    for (; a < starts.size(); ++a) {
      if (++index[a] < starts[a].size()) break;
      index[a] = 0;
    }
    if (a == starts.size()) return out;
  }
}

torch::Tensor WindowPlan::pad(const torch::Tensor& t) const {
  std::vector<int64_t> widths;
  for (size_t a = padded.size(); a-- > 0;) {
    widths.push_back(0);
    widths.push_back(padded[a] - t.size(static_cast<int64_t>(2 + a)));
  }
  return torch::constant_pad_nd(t, widths, 0.0);
}

torch::Tensor windowOf(const torch::Tensor& t, const std::vector<int64_t>& at,
                       const std::vector<int64_t>& window, const std::vector<int64_t>& stride) {
  torch::Tensor part = t;
  for (size_t a = 0; a < at.size(); ++a) {
    const int64_t s = stride.empty() ? 1 : stride[a];
    part = part.narrow(static_cast<int64_t>(2 + a), at[a] / s, window[a] / s);
  }
  return part;
}

MapBlend::MapBlend(const torch::Tensor& first, const std::vector<int64_t>& window,
                   const std::vector<int64_t>& padded) {
  std::vector<int64_t> grid = {1, first.size(1)};
  for (size_t a = 0; a < window.size(); ++a) {
    stride_.push_back(window[a] / first.size(static_cast<int64_t>(2 + a)));
    grid.push_back(padded[a] / stride_[a]);
  }
  sum_ = torch::zeros(grid, first.options());
  weight_ = torch::zeros(grid, first.options()).narrow(1, 0, 1);
}

void MapBlend::add(const torch::Tensor& map, const std::vector<int64_t>& at,
                   const std::vector<int64_t>& window, const torch::Tensor& importance_map) {
  torch::Tensor w = importance_map;
  for (size_t a = 0; a < window.size(); ++a) {
    const int64_t s = stride_[a], axis = static_cast<int64_t>(a);
    w = w.narrow(axis, (s - 1) / 2, window[a] - (s - 1) / 2).slice(axis, 0, c10::nullopt, s);
  }
  windowOf(sum_, at, window, stride_).add_(map * w);
  windowOf(weight_, at, window, stride_).add_(w);
}

BlendedOutput slidingWindow(const std::function<zoo::NetworkOutput(const torch::Tensor&)>& network,
                            const torch::Tensor& input, const std::vector<int64_t>& window,
                            double overlap, const std::vector<int64_t>& alignment,
                            const std::optional<torch::Device>& device) {
  const WindowPlan plan = planWindows(input.sizes().slice(2).vec(), window, overlap, alignment);
  const torch::Tensor volume = plan.pad(input);
  const torch::Tensor weight_map = windowImportance(window, volume.options());

  std::optional<MapBlend> probabilities;
  std::vector<std::string> gate_names;
  std::vector<MapBlend> gate_maps, coarse_maps;  // coarse_maps empty when the network gives none
  for (const auto& at : plan.placements()) {
    torch::Tensor part = windowOf(volume, at, window).contiguous();
    if (device) part = part.to(*device);
    zoo::NetworkOutput out = network(part);
    // Back where the buffers are (a no-op when they are on the network's device).
    const torch::Device home = volume.device();
    for (auto& gate : out.gates) {
      gate.alpha = gate.alpha.to(home, torch::kFloat32);
      if (gate.coarse.defined()) gate.coarse = gate.coarse.to(home, torch::kFloat32);
    }
    const torch::Tensor p = torch::softmax(out.logits.to(torch::kFloat32), 1).to(home);
    if (!probabilities) {
      probabilities.emplace(p, window, plan.padded);
      for (const auto& gate : out.gates) {
        gate_names.push_back(gate.name);
        gate_maps.emplace_back(gate.alpha, window, plan.padded);
        if (gate.coarse.defined()) coarse_maps.emplace_back(gate.coarse, window, plan.padded);
      }
    }
    probabilities->add(p, at, window, weight_map);
    for (size_t g = 0; g < out.gates.size(); ++g) {
      gate_maps[g].add(out.gates[g].alpha, at, window, weight_map);
      if (!coarse_maps.empty()) coarse_maps[g].add(out.gates[g].coarse, at, window, weight_map);
    }
  }

  BlendedOutput blended;
  blended.probabilities = probabilities->blended();
  for (size_t g = 0; g < gate_maps.size(); ++g)
    blended.gates.push_back({gate_names[g], gate_maps[g].blended(),
                             coarse_maps.empty() ? torch::Tensor() : coarse_maps[g].blended()});
  blended.padded = plan.padded;
  return blended;
}

}  // namespace gatescope
