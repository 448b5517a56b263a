#include "plugins/runtime/device.hpp"

#include <fmt/format.h>

#include "analysis/core/error.hpp"

namespace gatescope {

torch::Device resolveDevice(const std::string& name) {
  const bool cuda = torch::cuda::is_available();
  if (name == "auto") return cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (name == "cpu") return torch::Device(torch::kCPU);
  if (name == "cuda" || name.starts_with("cuda:")) {
    if (!cuda)
      throw UsageError("--device " + name +
                       ": LibTorch sees no CUDA device here (use cpu or auto)");
    int index = 0;
    if (name.size() > 5) {
      try {
        index = std::stoi(name.substr(5));
      } catch (const std::exception&) {
        throw UsageError("--device " + name + ": expected cuda:N");
      }
    }
    const auto count = static_cast<int>(torch::cuda::device_count());
    if (index < 0 || index >= count)
      throw UsageError(fmt::format("--device {}: there are {} CUDA device(s)", name, count));
    return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
  }
  throw UsageError("--device " + name + ": expected auto, cpu, cuda or cuda:N");
}

}  // namespace gatescope
