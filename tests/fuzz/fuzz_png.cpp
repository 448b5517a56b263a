// PNG: gray, RGB, palette, alpha, 1-16 bits.
#include "analysis/core/error.hpp"
#include "analysis/io/png_io.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const gatescope::fuzz::MemoryFile file(data, size);
  try {
    (void)gatescope::readPng(file.path());
  } catch (const gatescope::Error&) {
  }
  return 0;
}
