#include "analysis/plugin/plugin_loader.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <sstream>

#include "analysis/core/error.hpp"

namespace gatescope {
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> searchFolders() {
  std::vector<fs::path> folders;
  if (const char* env = std::getenv("GATESCOPE_PLUGIN_PATH")) {
    std::stringstream list(env);
    for (std::string folder; std::getline(list, folder, ':');)
      if (!folder.empty()) folders.emplace_back(folder);
  }
  std::error_code ec;
  const fs::path executable = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) folders.push_back(executable.parent_path().parent_path() / "lib");
  return folders;
}

bool isPluginName(const fs::path& path) {
  const std::string name = path.filename().string();
  return name.starts_with("libgatescope_") && name.find("plugin") != std::string::npos &&
         name.ends_with(".so");
}

}  // namespace

std::vector<fs::path> loadPlugins(Registry& registry) {
  std::vector<fs::path> loaded;
  for (const fs::path& folder : searchFolders()) {
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) continue;
    std::vector<fs::path> candidates;
    for (const auto& entry : fs::directory_iterator(folder, ec))
      if (isPluginName(entry.path())) candidates.push_back(entry.path());
    std::sort(candidates.begin(), candidates.end());
    for (const fs::path& library : candidates) {
      const bool seen = std::any_of(loaded.begin(), loaded.end(), [&](const fs::path& p) {
        return p.filename() == library.filename();
      });
      if (seen) continue;
      void* handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) throw Error(library.string() + ": cannot load plugin: " + ::dlerror());
      auto* entry =
          reinterpret_cast<void (*)(Registry&)>(::dlsym(handle, "gatescope_register_plugin"));
      if (!entry)
        throw Error(library.string() + ": not a gatescope plugin (no gatescope_register_plugin)");
      entry(registry);
      loaded.push_back(library);
    }
  }
  return loaded;
}

Registry& pluginRegistry() {
  static Registry registry;
  static std::once_flag once;
  std::call_once(once, [] { loadPlugins(registry); });
  return registry;
}

}  // namespace gatescope
