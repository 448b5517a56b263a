#pragma once

#include <torch/torch.h>

#include <functional>

#include "plugins/zoo/networks.hpp"

namespace gatescope {

// Runs `network` over windows of `window` voxels that overlap by `overlap` (0 <= overlap < 1) and
// blends the windows' class probabilities and gate coefficients with a Gaussian importance map
// (sigma = window / 8, as nnU-Net and MONAI, tapered to zero at the window's edge). `input` is (1,
// C, spatial). Window steps are multiples of `alignment` (the coarsest gate stride), so every
// window's gate grid lines up with the volume's; the input is zero-padded at the end to whole
// windows and the outputs cropped back. Returns probabilities (1, classes, padded) and each gate on
// its own grid over the padded volume; crop them to the input's size.
struct BlendedOutput {
  torch::Tensor probabilities;
  std::vector<zoo::GateOutput> gates;
  std::vector<int64_t> padded;
};
[[nodiscard]] BlendedOutput slidingWindow(
    const std::function<zoo::NetworkOutput(const torch::Tensor&)>& network,
    const torch::Tensor& input, const std::vector<int64_t>& window, double overlap,
    const std::vector<int64_t>& alignment);

}  // namespace gatescope
