// Whole checkpoints as torch.save writes them: the legacy format and the zip format, through the
// zip reader, the unpickler and the tensor rebuilding.
#include "analysis/core/error.hpp"
#include "plugins/checkpoint/checkpoint_file.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gatescope::fuzz::MemoryFile file(data, size);
  try {
    (void)gatescope::readCheckpoint(file.path());
  } catch (const gatescope::Error&) {
  }
  return 0;
}
