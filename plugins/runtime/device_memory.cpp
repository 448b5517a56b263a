#include "plugins/runtime/device_memory.hpp"

#include <c10/core/CPUAllocator.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <mutex>
#include <unordered_map>

#ifdef GATESCOPE_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#include <cuda_runtime_api.h>
#endif

namespace gatescope {

namespace {

std::atomic<int64_t> cpu_current{0}, cpu_peak{0};
std::atomic<bool> counting{false};

// Forwards to LibTorch's CPU allocator and keeps the bytes allocated and their high-water mark.
// The data pointer is its own context (LibTorch's raw_allocate insists on it): a table finds the
// allocation a pointer belongs to when it is freed.
class CountingAllocator final : public at::Allocator {
 public:
  explicit CountingAllocator(at::Allocator* inner) : inner_(inner) {}

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  at::DataPtr allocate(size_t bytes) override {
    return wrap(bytes);
  }
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    std::memcpy(dest, src, count);
  }
#else
  at::DataPtr allocate(size_t bytes) const override {
    return wrap(bytes);
  }
#endif
  at::DeleterFnPtr raw_deleter() const override {
    return &release;
  }

 private:
  struct Held {
    at::DataPtr inner;
    int64_t bytes;
  };
  // Never destroyed: tensors may be freed by other static destructors at exit.
  static std::mutex& tableMutex() {
    static auto* mutex = new std::mutex;
    return *mutex;
  }
  static std::unordered_map<void*, Held>& table() {
    static auto* held = new std::unordered_map<void*, Held>;
    return *held;
  }
  static void release(void* data) {
    if (!data) return;
    at::DataPtr inner;  // freed outside the lock
    {
      std::lock_guard lock(tableMutex());
      const auto found = table().find(data);
      if (found == table().end()) return;
      cpu_current -= found->second.bytes;
      inner = std::move(found->second.inner);
      table().erase(found);
    }
  }
  at::DataPtr wrap(size_t bytes) const {
    at::DataPtr inner = inner_->allocate(bytes);
    void* data = inner.get();
    const at::Device device = inner.device();
    if (!data) return inner;
    const auto size = static_cast<int64_t>(bytes);
    {
      std::lock_guard lock(tableMutex());
      table().emplace(data, Held{std::move(inner), size});
    }
    const int64_t now = cpu_current += size;
    int64_t peak = cpu_peak.load();
    while (now > peak && !cpu_peak.compare_exchange_weak(peak, now)) {
    }
    return {data, data, &release, device};
  }
  at::Allocator* inner_;
};

}  // namespace

void countCpuAllocations() {
  static std::once_flag once;
  std::call_once(once, [] {
    // Never destroyed: LibTorch allocates through it until the process ends.
    static auto* allocator = new CountingAllocator(c10::GetCPUAllocator());
    c10::SetCPUAllocator(allocator, /*priority=*/100);
    counting = true;
  });
}

int64_t peakBytesDuring(const torch::Device& device, const std::function<void()>& call) {
#ifdef GATESCOPE_WITH_CUDA
  if (device.is_cuda()) {
    namespace allocator = c10::cuda::CUDACachingAllocator;
    const int index = device.has_index() ? device.index() : 0;
    const auto aggregate =
        static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE);
    const int64_t before = allocator::getDeviceStats(index).allocated_bytes[aggregate].current;
    allocator::resetPeakStats(index);
    call();
    return allocator::getDeviceStats(index).allocated_bytes[aggregate].peak - before;
  }
#endif
  if (device.is_cuda() || !counting) {
    call();
    return -1;
  }
  const int64_t before = cpu_current.load();
  cpu_peak = before;
  call();
  return cpu_peak.load() - before;
}

int64_t freeDeviceBytes(const torch::Device& device) {
#ifdef GATESCOPE_WITH_CUDA
  if (device.is_cuda()) {
    size_t free = 0, total = 0;
    cudaSetDevice(device.has_index() ? device.index() : 0);
    cudaMemGetInfo(&free, &total);
    return static_cast<int64_t>(free);
  }
#endif
  (void)device;
  return static_cast<int64_t>(sysconf(_SC_AVPHYS_PAGES)) * sysconf(_SC_PAGESIZE);
}

}  // namespace gatescope
