#include "workbench/cli/memory_options.hpp"

#include <fmt/format.h>

#include <cmath>

#include "analysis/core/error.hpp"

namespace gatescope::cli {

void addMemoryOptions(CLI::App& command, double& budget_gb, std::string& window_buffers) {
  command.add_option("--memory-budget", budget_gb,
                     "Device memory a prediction may use, in GB (default: what a CUDA device has "
                     "free; no limit on the CPU). A volume whose forward does not fit runs in "
                     "sliding windows sized to fit");
  command
      .add_option("--window-buffers", window_buffers,
                  "Where sliding windows' blended outputs live: auto (the device unless they take "
                  "more than half the budget), device, or host memory")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "device", "host"}));
}

int64_t memoryBudgetBytes(double gb) {
  if (!std::isfinite(gb) || gb < 0 || gb > 1e6)
    throw UsageError(fmt::format("--memory-budget {}: expected a size in GB, e.g. 16", gb));
  return static_cast<int64_t>(gb * 1024.0 * 1024.0 * 1024.0);
}

nlohmann::ordered_json memoryRecord(const MemoryUse& memory) {
  nlohmann::ordered_json record = {{"plan", memory.plan}, {"buffers", memory.buffers}};
  if (memory.planned) {
    record["budget_bytes"] = memory.budget;
    record["estimated_peak_bytes"] = memory.estimated_peak;
  }
  record["peak_bytes"] =
      memory.measured_peak >= 0 ? nlohmann::ordered_json(memory.measured_peak) : nullptr;
  return record;
}

}  // namespace gatescope::cli
