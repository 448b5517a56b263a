#pragma once

#include <string>
#include <vector>

namespace gatescope {

// What LibTorch offers on this machine. Public header without torch types.
struct TorchRuntimeInfo {
  std::string torch_version;  // "1.13.1"
  bool cuda_available = false;
  int cuda_device_count = 0;
  std::vector<std::string> cuda_device_names;
  int intra_op_threads = 1;
};

// Sets LibTorch's intra-op thread count to the machine's cores (LibTorch defaults to fewer);
// call once at start-up.
void initializeTorchRuntime();
[[nodiscard]] TorchRuntimeInfo torchRuntimeInfo();

}  // namespace gatescope
