// gatescope.json, the metadata extra file of TorchScript exports.
#include "analysis/core/error.hpp"
#include "analysis/models/torchscript_metadata.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    gatescope::ModelInfo info;
    bool align_corners = false;
    gatescope::readTorchScriptMetadata(std::string(gatescope::fuzz::text(data, size)),
                                       "m.pt: gatescope.json", info, align_corners);
  } catch (const gatescope::Error&) {
  }
  return 0;
}
