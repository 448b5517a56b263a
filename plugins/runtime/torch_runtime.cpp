#include "plugins/runtime/torch_runtime.hpp"

#include <torch/torch.h>

#include <thread>

#ifdef GATESCOPE_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace gatescope {

void initializeTorchRuntime() {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  at::set_num_threads(static_cast<int>(cores));
}

TorchRuntimeInfo torchRuntimeInfo() {
  TorchRuntimeInfo info;
  info.torch_version = std::to_string(TORCH_VERSION_MAJOR) + "." +
                       std::to_string(TORCH_VERSION_MINOR) + "." +
                       std::to_string(TORCH_VERSION_PATCH);
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  for (int d = 0; d < info.cuda_device_count; ++d) {
#ifdef GATESCOPE_WITH_CUDA
    cudaDeviceProp properties{};
    cudaGetDeviceProperties(&properties, d);
    info.cuda_device_names.emplace_back(properties.name);
#else
    info.cuda_device_names.emplace_back("CUDA device");
#endif
  }
  info.intra_op_threads = at::get_num_threads();
  return info;
}

}  // namespace gatescope
