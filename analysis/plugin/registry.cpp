#include "analysis/plugin/registry.hpp"

namespace gatescope {

void Registry::addRuntime(const std::string& name, RuntimeProbe probe) {
  runtimes_[name] = std::move(probe);
}

std::vector<RuntimeDescription> Registry::runtimes() const {
  std::vector<RuntimeDescription> out;
  for (const auto& [name, probe] : runtimes_) out.push_back(probe());
  return out;
}

}  // namespace gatescope
