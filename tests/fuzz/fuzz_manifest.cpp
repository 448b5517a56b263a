// model.json (the native zoo's manifest).
#include "analysis/core/error.hpp"
#include "analysis/io/json_file.hpp"
#include "analysis/models/model_manifest.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto manifest = gatescope::parseModelManifest(
        gatescope::parseJson(gatescope::fuzz::text(data, size), "m.json"), "/models/m.json");
    (void)gatescope::toJson(manifest).dump();
  } catch (const gatescope::Error&) {
  }
  return 0;
}
