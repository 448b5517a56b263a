#include "plugins/runtime/torch_runtime.hpp"

#include <malloc.h>
#include <torch/torch.h>

#include <cstdlib>
#include <thread>

#ifdef GATESCOPE_WITH_CUDA
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime_api.h>
#endif

namespace gatescope {

void initializeTorchRuntime() {
  // GATESCOPE_THREADS: the threads of one process, e.g. the node's cores divided among the MPI
  // ranks that share it (docs/scaling.md).
  int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (const char* wanted = std::getenv("GATESCOPE_THREADS"); wanted && std::atoi(wanted) > 0)
    threads = std::atoi(wanted);
  at::set_num_threads(threads);
  // A network's activations are freed and allocated again at every forward. glibc's defaults give
  // the freed top of the heap back to the kernel and take it again page by page: a third of a
  // classifier's time on the CPU went to page faults (docs/benchmarks.md). Blocks up to 32 MB now
  // stay on the heap and up to 512 MB of free heap is kept for the next forward.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
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
