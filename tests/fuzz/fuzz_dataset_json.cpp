// dataset.json of the MSD / nnU-Net layouts (cases listed, labels, channels, file endings).
#include "analysis/core/error.hpp"
#include "analysis/datasets/dataset.hpp"
#include "tests/fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto folder = gatescope::fuzz::scratchFolder() / "dataset";
  std::filesystem::create_directories(folder);
  gatescope::fuzz::writeFile(folder / "dataset.json", data, size);
  try {
    const gatescope::Dataset dataset = gatescope::openDataset(folder / "dataset.json");
    (void)dataset.cases.size();
  } catch (const gatescope::Error&) {
  }
  return 0;
}
