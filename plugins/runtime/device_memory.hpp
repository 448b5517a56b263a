#pragma once

// Device memory for memory-safe inference (docs/scaling.md#memory-safe-inference): how much a call
// allocates at its peak, on the CPU (a counting allocator LibTorch allocates through once
// installed) or on CUDA (the caching allocator's statistics), and how much the device has free.
#include <torch/torch.h>

#include <cstdint>
#include <functional>

namespace gatescope {

// Routes LibTorch's CPU allocations through a counter (once per process; later calls do nothing).
void countCpuAllocations();

// Peak bytes allocated on `device` while `call` runs, above what was allocated when it started;
// -1 when it cannot be measured (the CPU before countCpuAllocations()).
[[nodiscard]] int64_t peakBytesDuring(const torch::Device& device,
                                      const std::function<void()>& call);

// Bytes free on a CUDA device; on the CPU the memory the kernel says is available.
[[nodiscard]] int64_t freeDeviceBytes(const torch::Device& device);

}  // namespace gatescope
