// Workbench sessions (layers, views, the evaluation and case they name).
#include "analysis/core/error.hpp"
#include "tests/fuzz/fuzz_support.hpp"
#include "workbench/app/workbench_state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = gatescope::fuzz::scratchFolder() / "session.json";
  gatescope::fuzz::writeFile(path, data, size);
  try {
    gatescope::workbench::WorkbenchState state;
    state.loadSession(path);
  } catch (const gatescope::Error&) {
  }
  return 0;
}
