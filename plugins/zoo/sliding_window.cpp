#include "plugins/zoo/sliding_window.hpp"

#include <fmt/format.h>

#include <cmath>

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
    const torch::Tensor g = torch::exp(-(x * x) / (2.0 * sigma * sigma)) -
                            std::exp(-(half * half) / (2.0 * sigma * sigma));
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

// One map blended over the padded volume on its own grid (a gate's map or its coarse grid).
class MapBlend {
 public:
  MapBlend(const torch::Tensor& first, const std::vector<int64_t>& window,
           const std::vector<int64_t>& padded) {
    std::vector<int64_t> grid = {1, first.size(1)};
    for (size_t a = 0; a < window.size(); ++a) {
      stride_.push_back(window[a] / first.size(static_cast<int64_t>(2 + a)));
      grid.push_back(padded[a] / stride_[a]);
    }
    sum_ = torch::zeros(grid, first.options());
    weight_ = torch::zeros(std::vector<int64_t>(grid.begin() + 2, grid.end()), first.options());
  }
  // `map` from the window at `at`, weighted by the importance map sampled at its voxels' centres.
  void add(const torch::Tensor& map, const std::vector<int64_t>& at,
           const std::vector<int64_t>& window, const torch::Tensor& importance_map) {
    torch::Tensor w = importance_map, target = sum_, weight = weight_;
    for (size_t a = 0; a < window.size(); ++a) {
      const int64_t s = stride_[a], axis = static_cast<int64_t>(a);
      w = w.narrow(axis, (s - 1) / 2, window[a] - (s - 1) / 2).slice(axis, 0, c10::nullopt, s);
      target = target.narrow(axis + 2, at[a] / s, window[a] / s);
      weight = weight.narrow(axis, at[a] / s, window[a] / s);
    }
    target.add_(map * w);
    weight.add_(w);
  }
  [[nodiscard]] torch::Tensor blended() const { return sum_ / weight_; }

 private:
  std::vector<int64_t> stride_;
  torch::Tensor sum_, weight_;
};

}  // namespace

BlendedOutput slidingWindow(const std::function<zoo::NetworkOutput(const torch::Tensor&)>& network,
                            const torch::Tensor& input, const std::vector<int64_t>& window,
                            double overlap, const std::vector<int64_t>& alignment) {
  const auto dims = static_cast<size_t>(input.dim() - 2);
  if (window.size() != dims)
    throw UsageError(
        fmt::format("--window needs {} sizes for this model, got {}", dims, window.size()));
  if (!(overlap >= 0.0 && overlap < 1.0))
    throw UsageError(fmt::format("--overlap {} must be in [0, 1)", overlap));
  std::vector<int64_t> size(dims), step(dims), padded(dims);
  std::vector<int64_t> pad;
  for (size_t a = 0; a < dims; ++a) {
    if (window[a] < alignment[a] || window[a] % alignment[a] != 0)
      throw UsageError(fmt::format("--window: {} along axis {} must be a multiple of {}", window[a],
                                   a, alignment[a]));
    size[a] = input.size(static_cast<int64_t>(2 + a));
    const auto raw_step =
        static_cast<int64_t>(std::floor(static_cast<double>(window[a]) * (1.0 - overlap)));
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
  std::vector<std::string> gate_names;
  std::vector<MapBlend> gate_maps, coarse_maps;  // coarse_maps empty when the network gives none
  std::vector<std::vector<int64_t>> positions(dims);
  for (size_t a = 0; a < dims; ++a) positions[a] = starts(padded[a], window[a], step[a]);
  std::vector<size_t> index(dims, 0);
  while (true) {
    std::vector<int64_t> at(dims);
    for (size_t a = 0; a < dims; ++a) at[a] = positions[a][index[a]];
    torch::Tensor patch = volume;
    for (size_t a = 0; a < dims; ++a)
      patch = patch.narrow(static_cast<int64_t>(2 + a), at[a], window[a]);
    zoo::NetworkOutput out = network(patch.contiguous());
    for (auto& gate : out.gates) {
      gate.alpha = gate.alpha.to(torch::kFloat32);
      if (gate.coarse.defined()) gate.coarse = gate.coarse.to(torch::kFloat32);
    }
    const torch::Tensor probabilities =
        torch::softmax(out.logits.to(torch::kFloat32), 1) * weight_map;
    if (!probability_sum.defined()) {
      std::vector<int64_t> shape = {1, out.logits.size(1)};
      shape.insert(shape.end(), padded.begin(), padded.end());
      probability_sum = torch::zeros(shape, volume.options());
      for (const auto& gate : out.gates) {
        gate_names.push_back(gate.name);
        gate_maps.emplace_back(gate.alpha, window, padded);
        if (gate.coarse.defined()) coarse_maps.emplace_back(gate.coarse, window, padded);
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
      gate_maps[g].add(out.gates[g].alpha, at, window, weight_map);
      if (!coarse_maps.empty()) coarse_maps[g].add(out.gates[g].coarse, at, window, weight_map);
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
  for (size_t g = 0; g < gate_maps.size(); ++g)
    blended.gates.push_back({gate_names[g], gate_maps[g].blended(),
                             coarse_maps.empty() ? torch::Tensor() : coarse_maps[g].blended()});
  blended.padded = padded;
  return blended;
}

}  // namespace gatescope
