#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "analysis/plugin/registry.hpp"

namespace gatescope {

// The LibTorch model plugin is a shared library loaded on demand: commands that never touch a
// model (info, metrics) start without paying for LibTorch's start-up.
//
// Looks for plugin libraries (libgatescope_*plugin*.so) in $GATESCOPE_PLUGIN_PATH (colon-separated
// folders), then in <executable folder>/../lib, and registers each one found into `registry`.
// Returns the loaded files. Throws Error naming the file when a library fails to load.
std::vector<std::filesystem::path> loadPlugins(Registry& registry);

// The process-wide registry, with plugins loaded on first use.
[[nodiscard]] Registry& pluginRegistry();

}  // namespace gatescope
