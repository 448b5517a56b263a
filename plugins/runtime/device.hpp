#pragma once

#include <torch/torch.h>

#include <string>

namespace gatescope {

// "auto" (CUDA when LibTorch sees a GPU, else the CPU), "cpu", "cuda" or "cuda:N"; UsageError
// for anything else or for a GPU that is not there.
[[nodiscard]] torch::Device resolveDevice(const std::string& name);

}  // namespace gatescope
