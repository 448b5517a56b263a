#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "analysis/models/model_adapter.hpp"

namespace gatescope::cli {

// --memory-budget GB and --window-buffers auto|device|host (docs/scaling.md#memory-safe-inference).
void addMemoryOptions(CLI::App& command, double& budget_gb, std::string& window_buffers);
// GB (2^30 bytes) as bytes; 0 stays 0 (no budget). UsageError for a negative or absurd value.
[[nodiscard]] int64_t memoryBudgetBytes(double gb);
// infer.json's "device_memory": the plan, the budget and the peaks in bytes.
[[nodiscard]] nlohmann::ordered_json memoryRecord(const MemoryUse& memory);

}  // namespace gatescope::cli
