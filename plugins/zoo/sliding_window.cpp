#include "plugins/zoo/sliding_window.hpp"

#include <cmath>

#include <fmt/format.h>

#include "analysis/core/error.hpp"

namespace gatescope {

namespace {

// Separable Gaussian importance over a window of `size` voxels (sigma = size / 8), lowered by its
// value half a voxel beyond the window so that it falls to (almost) zero at the window's edge:
// a neighbour's least reliable border voxels then cannot leave a step where a window ends. A tiny
// floor keeps every voxel's weight positive.
torch::Tensor importance(const std::vector<int64_t>& size, const torch::TensorOptions& options) {
  torch::Tensor map = torch::ones({1}, options);
  for (const int64_t n : size) {
    const double sigma = static_cast<double>(n) / 8.0;
    const double half = static_cast<double>(n) / 2.0;
    const torch::Tensor x = torch::arange(n, options).sub((static_cast<double>(n) - 1.0) / 2.0);
    const torch::Tensor g = torch::exp(-(x * x) / (2.0 * sigma * sigma)) - std::exp(-(half * half) / (2.0 * sigma * sigma));
    map = map.unsqueeze(-1) * g;
  }
  map = map.squeeze(0);
  return torch::clamp_min(map / map.max(), 1e-8);
}

std::vector<int64_t> starts(int64_t length, int64_t window, int64_t step) {
  std::vector<int64_t> positions;
  for (int64_t p = 0; p + window <= length; p += step) positions.push_back(p);
  return positions;
}

}  // namespace

BlendedOutput slidingWindow(const std::function<zoo::NetworkOutput(const torch::Tensor&)>& network,
                            const torch::Tensor& input, const std::vector<int64_t>& window, double overlap,
                            const std::vector<int64_t>& alignment) {
  const auto dims = static_cast<size_t>(input.dim() - 2);
  if (window.size() != dims)
    throw UsageError(fmt::format("--window needs {} sizes for this model, got {}", dims, window.size()));
  if (!(overlap >= 0.0 && overlap < 1.0)) throw UsageError(fmt::format("--overlap {} must be in [0, 1)", overlap));
  std::vector<int64_t> size(dims), step(dims), padded(dims);
  std::vector<int64_t> pad;
  for (size_t a = 0; a < dims; ++a) {
    if (window[a] < alignment[a] || window[a] % alignment[a] != 0)
      throw UsageError(fmt::format("--window: {} along axis {} must be a multiple of {}", window[a], a, alignment[a]));
    size[a] = input.size(static_cast<int64_t>(2 + a));
    const auto raw_step = static_cast<int64_t>(std::floor(static_cast<double>(window[a]) * (1.0 - overlap)));
    step[a] = std::max(alignment[a], raw_step / alignment[a] * alignment[a]);
    const int64_t extra = std::max<int64_t>(0, size[a] - window[a]);
    padded[a] = window[a] + (extra + step[a] - 1) / step[a] * step[a];
  }
  for (size_t a = dims; a-- > 0;) {
    pad.push_back(0);
    pad.push_back(padded[a] - size[a]);
  }
  const torch::Tensor volume = torch::constant_pad_nd(input, pad, 0.0);
  const torch::Tensor weight_map = importance(window, volume.options());

  torch::Tensor probability_sum, weight_sum = torch::zeros(padded, volume.options());
  std::vector<zoo::GateOutput> gate_sums;
  std::vector<torch::Tensor> gate_weights;
  std::vector<std::vector<int64_t>> gate_strides;

  std::vector<std::vector<int64_t>> positions(dims);
  for (size_t a = 0; a < dims; ++a) positions[a] = starts(padded[a], window[a], step[a]);
  std::vector<size_t> index(dims, 0);
  while (true) {
    std::vector<int64_t> at(dims);
    for (size_t a = 0; a < dims; ++a) at[a] = positions[a][index[a]];
    torch::Tensor patch = volume;
    for (size_t a = 0; a < dims; ++a) patch = patch.narrow(static_cast<int64_t>(2 + a), at[a], window[a]);
    zoo::NetworkOutput out = network(patch.contiguous());
    for (auto& gate : out.gates) gate.alpha = gate.alpha.to(torch::kFloat32);
    const torch::Tensor probabilities = torch::softmax(out.logits.to(torch::kFloat32), 1) * weight_map;
    if (!probability_sum.defined()) {
      std::vector<int64_t> shape = {1, out.logits.size(1)};
      shape.insert(shape.end(), padded.begin(), padded.end());
      probability_sum = torch::zeros(shape, volume.options());
      for (const auto& gate : out.gates) {
        std::vector<int64_t> stride(dims), grid = {1, gate.alpha.size(1)};
        for (size_t a = 0; a < dims; ++a) {
          stride[a] = window[a] / gate.alpha.size(static_cast<int64_t>(2 + a));
          grid.push_back(padded[a] / stride[a]);
        }
        gate_strides.push_back(stride);
        gate_sums.push_back({gate.name, torch::zeros(grid, volume.options())});
        gate_weights.push_back(torch::zeros(std::vector<int64_t>(grid.begin() + 2, grid.end()), volume.options()));
      }
    }
    torch::Tensor target = probability_sum, weights = weight_sum;
    for (size_t a = 0; a < dims; ++a) {
      target = target.narrow(static_cast<int64_t>(2 + a), at[a], window[a]);
      weights = weights.narrow(static_cast<int64_t>(a), at[a], window[a]);
    }
    target.add_(probabilities);
    weights.add_(weight_map);
    for (size_t g = 0; g < out.gates.size(); ++g) {
      // The gate's own grid: the importance map sampled at the gate voxels' centres.
      torch::Tensor w = weight_map;
      for (size_t a = 0; a < dims; ++a) {
        const int64_t s = gate_strides[g][a];
        w = w.narrow(static_cast<int64_t>(a), (s - 1) / 2, window[a] - (s - 1) / 2).slice(static_cast<int64_t>(a), 0, c10::nullopt, s);
      }
      torch::Tensor gate_target = gate_sums[g].alpha, gate_weight = gate_weights[g];
      for (size_t a = 0; a < dims; ++a) {
        const int64_t s = gate_strides[g][a];
        gate_target = gate_target.narrow(static_cast<int64_t>(2 + a), at[a] / s, window[a] / s);
        gate_weight = gate_weight.narrow(static_cast<int64_t>(a), at[a] / s, window[a] / s);
      }
      gate_target.add_(out.gates[g].alpha * w);
      gate_weight.add_(w);
    }
    size_t a = 0;
    for (; a < dims; ++a) {
      if (++index[a] < positions[a].size()) break;
      index[a] = 0;
    }
    if (a == dims) break;
  }

  BlendedOutput blended;
  blended.probabilities = probability_sum / weight_sum;
  for (size_t g = 0; g < gate_sums.size(); ++g)
    blended.gates.push_back({gate_sums[g].name, gate_sums[g].alpha / gate_weights[g]});
  blended.padded = padded;
  return blended;
}

}  // namespace gatescope
