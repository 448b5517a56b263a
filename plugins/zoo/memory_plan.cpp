#include "plugins/zoo/memory_plan.hpp"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <numeric>

#include "analysis/core/error.hpp"
#include "plugins/runtime/device_memory.hpp"

namespace gatescope {

namespace {

int64_t voxels(const std::vector<int64_t>& size) {
  return std::accumulate(size.begin(), size.end(), int64_t{1}, std::multiplies<>());
}

double gigabytes(int64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0);
}

}  // namespace

ForwardMemory forwardMemory(const NetworkRunner& run, const ModelInfo& info,
                            const torch::Device& device, const std::vector<int64_t>& alignment,
                            bool capture_gates) {
  static std::mutex mutex;
  static std::map<std::string, ForwardMemory> measured;
  const std::string key =
      fmt::format("{}|{}|{}", info.source, device.str(), capture_gates ? "gates" : "");
  std::lock_guard lock(mutex);
  if (const auto found = measured.find(key); found != measured.end()) return found->second;
  if (device.is_cpu()) countCpuAllocations();
  // Two inputs of 2 and 4 alignment steps per axis (32^3 and 64^3 voxels for a 3D U-Net).
  int64_t peaks[2] = {0, 0}, sizes[2] = {0, 0};
  for (int n = 0; n < 2; ++n) {
    std::vector<int64_t> shape = {1, info.in_channels};
    for (const int64_t a : alignment) shape.push_back(a * (n == 0 ? 2 : 4));
    const torch::Tensor probe = torch::zeros(shape, torch::TensorOptions().device(device));
    sizes[n] = voxels(std::vector<int64_t>(shape.begin() + 2, shape.end()));
    peaks[n] = peakBytesDuring(device, [&] {
      zoo::NetworkOutput out = run(probe, capture_gates);
      (void)torch::softmax(out.logits.to(torch::kFloat32), 1);
    });
    if (peaks[n] < 0)
      throw UsageError("the device memory of " + device.str() + " cannot be measured here");
  }
  ForwardMemory forward;
  forward.per_voxel = std::max(
      0.0, static_cast<double>(peaks[1] - peaks[0]) / static_cast<double>(sizes[1] - sizes[0]));
  forward.fixed = std::max(
      0.0, static_cast<double>(peaks[0]) - forward.per_voxel * static_cast<double>(sizes[0]));
  measured.emplace(key, forward);
  return forward;
}

MemoryPlan planMemory(const ForwardMemory& forward, const std::vector<int64_t>& padded,
                      const std::vector<int64_t>& requested, const std::vector<int64_t>& alignment,
                      int64_t buffer_channels, const std::string& buffers, int64_t budget) {
  MemoryPlan plan;
  const int64_t whole = forward.at(voxels(padded));
  if (requested.empty() && buffers != "host" && whole <= budget) {
    plan.estimated_peak = whole;
    return plan;
  }
  // Windows: the padded input, the blended maps and their weights over the whole volume.
  const int64_t buffer_bytes = buffer_channels * voxels(padded) * 4;
  plan.host_buffers = buffers == "host" || (buffers == "auto" && 2 * buffer_bytes > budget);
  const int64_t left = budget - (plan.host_buffers ? 0 : buffer_bytes);
  if (!requested.empty()) {
    plan.window = requested;
  } else {
    // The volume's own size rounded up to the alignment, halved along its largest axis until a
    // window's forward fits; at least two alignment steps where the volume has them, so that
    // neighbouring windows can overlap (steps are whole alignment steps).
    std::vector<int64_t> window, smallest;
    for (size_t a = 0; a < padded.size(); ++a) {
      window.push_back((padded[a] + alignment[a] - 1) / alignment[a] * alignment[a]);
      smallest.push_back(std::min(window[a], 2 * alignment[a]));
    }
    while (forward.at(voxels(window)) > left) {
      size_t largest = 0;
      for (size_t a = 1; a < window.size(); ++a)
        if (window[a] / smallest[a] > window[largest] / smallest[largest]) largest = a;
      if (window[largest] == smallest[largest]) {
        throw UsageError(fmt::format(
            "a device memory budget of {:.2f} GB is too small for this model: its smallest window "
            "needs {:.2f} GB{}",
            gigabytes(budget), gigabytes(forward.at(voxels(window))),
            plan.host_buffers ? "" : " beside its blending buffers (try --window-buffers host)"));
      }
      window[largest] = std::max(smallest[largest], (window[largest] / 2 + alignment[largest] - 1) /
                                                        alignment[largest] * alignment[largest]);
    }
    plan.window = window;
  }
  plan.estimated_peak = forward.at(voxels(plan.window)) + (plan.host_buffers ? 0 : buffer_bytes);
  return plan;
}

}  // namespace gatescope
