#pragma once

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <vector>

#include "plugins/zoo/networks.hpp"

namespace gatescope {

// Where windows go over a volume of `size` voxels: steps of window * (1 - overlap) rounded down to
// a multiple of `alignment` (at least one), the volume zero-padded at its end to whole windows.
// UsageError for a window size of another dimension than the volume's, an overlap outside [0, 1),
// a window that is not a multiple of the alignment.
struct WindowPlan {
  std::vector<int64_t> window, step, padded;
  std::vector<std::vector<int64_t>> starts;  // per axis
  // Every window's first voxel, the first axis fastest.
  [[nodiscard]] std::vector<std::vector<int64_t>> placements() const;
  // `t` (N, C, spatial) zero-padded at the end of every spatial axis to `padded`.
  [[nodiscard]] torch::Tensor pad(const torch::Tensor& t) const;
};
[[nodiscard]] WindowPlan planWindows(const std::vector<int64_t>& size,
                                     const std::vector<int64_t>& window, double overlap,
                                     const std::vector<int64_t>& alignment);

// The part of `t` (N, C, spatial) a window at `at` covers, on a grid `stride` times coarser.
[[nodiscard]] torch::Tensor windowOf(const torch::Tensor& t, const std::vector<int64_t>& at,
                                     const std::vector<int64_t>& window,
                                     const std::vector<int64_t>& stride = {});

// The Gaussian importance of a window's voxels (sigma = window / 8, tapered to zero at its edge).
[[nodiscard]] torch::Tensor windowImportance(const std::vector<int64_t>& window,
                                             const torch::TensorOptions& options);

// One map (1, C, window / stride) per window blended over the padded volume on its own grid,
// weighted by the importance sampled at its voxels' centres.
class MapBlend {
 public:
  MapBlend(const torch::Tensor& first, const std::vector<int64_t>& window,
           const std::vector<int64_t>& padded);
  void add(const torch::Tensor& map, const std::vector<int64_t>& at,
           const std::vector<int64_t>& window, const torch::Tensor& importance_map);
  [[nodiscard]] torch::Tensor blended() const { return sum_ / weight_; }
  [[nodiscard]] const std::vector<int64_t>& stride() const { return stride_; }

 private:
  std::vector<int64_t> stride_;
  torch::Tensor sum_, weight_;
};

// Runs `network` over windows of `window` voxels that overlap by `overlap` (0 <= overlap < 1) and
// blends the windows' class probabilities and gate coefficients with a Gaussian importance map
// (sigma = window / 8, as nnU-Net and MONAI, tapered to zero at the window's edge). `input` is (1,
// C, spatial). Window steps are multiples of `alignment` (the coarsest gate stride), so every
// window's gate grid lines up with the volume's; the input is zero-padded at the end to whole
// windows and the outputs cropped back. Returns probabilities (1, classes, padded) and each gate on
// its own grid over the padded volume; crop them to the input's size. With `device` given, the
// input and the blended outputs stay where `input` lies (host memory) and only each window goes to
// `device` for the network (docs/scaling.md#memory-safe-inference).
struct BlendedOutput {
  torch::Tensor probabilities;
  std::vector<zoo::GateOutput> gates;
  std::vector<int64_t> padded;
};
[[nodiscard]] BlendedOutput slidingWindow(
    const std::function<zoo::NetworkOutput(const torch::Tensor&)>& network,
    const torch::Tensor& input, const std::vector<int64_t>& window, double overlap,
    const std::vector<int64_t>& alignment, const std::optional<torch::Device>& device = {});

}  // namespace gatescope
