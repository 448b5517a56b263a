#pragma once

// Memory-safe inference (docs/scaling.md#memory-safe-inference): whether a volume runs whole on
// the device or in sliding windows, how large the windows are, and whether the windows' blended
// outputs live on the device or in host memory - chosen from the device memory a forward takes,
// measured on the model itself, and a budget (the device's free memory, or --memory-budget).
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "analysis/models/model_adapter.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

// Device bytes of one forward of an input of V voxels: fixed + per_voxel * V (weights and
// workspace; activations), fitted to the peaks of two measured forwards.
struct ForwardMemory {
  double fixed = 0, per_voxel = 0;
  [[nodiscard]] int64_t at(int64_t voxels) const {
    return static_cast<int64_t>(fixed + per_voxel * static_cast<double>(voxels));
  }
};

// Measures the model's forward on `device` at two sizes that are multiples of `alignment`, once
// per model, device and gate capture (kept for later calls).
[[nodiscard]] ForwardMemory forwardMemory(const NetworkRunner& run, const ModelInfo& info,
                                          const torch::Device& device,
                                          const std::vector<int64_t>& alignment,
                                          bool capture_gates);

struct MemoryPlan {
  std::vector<int64_t> window;  // empty: the whole volume at once
  bool host_buffers = false;    // sliding windows' blended outputs in host memory
  int64_t estimated_peak = 0;   // device bytes the plan is expected to need at most
};

// The plan for a volume padded to `padded` within `budget` device bytes: the whole volume when its
// forward fits; else windows of `requested` (when given) or the largest multiples of `alignment`
// whose forward fits beside the blending buffers, the buffers on the host when `buffers` is
// "host", or "auto" and they would take more than half the budget. `buffer_channels`: the float
// channels held over the whole volume besides the window's forward (input channels, classes, gate
// channels, the blending weights). UsageError when not even the smallest window fits.
[[nodiscard]] MemoryPlan planMemory(const ForwardMemory& forward,
                                    const std::vector<int64_t>& padded,
                                    const std::vector<int64_t>& requested,
                                    const std::vector<int64_t>& alignment, int64_t buffer_channels,
                                    const std::string& buffers, int64_t budget);

}  // namespace gatescope
