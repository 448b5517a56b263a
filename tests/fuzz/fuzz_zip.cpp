// The zip container of torch.save files: central directory, local headers, stored entries.
#include "analysis/core/error.hpp"
#include "plugins/checkpoint/zip_archive.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const gatescope::ZipArchive archive(std::span<const uint8_t>(data, size), "fuzz.pth");
    for (const auto& name : archive.names()) (void)archive.entry(name);
  } catch (const gatescope::Error&) {
  }
  return 0;
}
