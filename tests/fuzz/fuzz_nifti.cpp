// NIfTI-1/NIfTI-2, plain and gzip (every member's CRC-32 and length verified).
#include "analysis/core/error.hpp"
#include "analysis/io/nifti_io.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gatescope::fuzz::MemoryFile file(data, size);
  try {
    (void)gatescope::readNiftiHeader(file.path());
    (void)gatescope::readNifti(file.path());
  } catch (const gatescope::Error&) {
  }
  return 0;
}
