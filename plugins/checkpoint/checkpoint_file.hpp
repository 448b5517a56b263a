#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gatescope {

// One tensor of a state dict, as plain data: contiguous row-major bytes (C order) of `dtype`
// ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8",
// "bool") and its shape.
struct CheckpointTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;

  [[nodiscard]] int64_t numel() const;
};

struct Checkpoint {
  std::vector<CheckpointTensor> tensors;  // in the file's order
  std::string format;                     // "zip" or "legacy"
  std::string nested_under;               // "state_dict", "model", ... or "" at the top level
  bool stripped_module_prefix = false;    // "module." (DataParallel) removed from every key
};

[[nodiscard]] int64_t dtypeSize(const std::string& dtype);

// Reads a torch.save file without PyTorch and without executing anything: the zip format
// (PyTorch >= 1.6) and the legacy format (PyTorch 0.3 - 1.5); an OrderedDict or dict of tensors,
// or such a dict nested under "state_dict", "model", "model_state_dict", "net" or "network";
// "module." prefixes removed. Throws FormatError naming the file: truncated or corrupt archives,
// TorchScript archives, files without tensors.
[[nodiscard]] Checkpoint readCheckpoint(const std::filesystem::path& path);

// Writes tensors as torch.save(dict, path, _use_new_zipfile_serialization=False) would: the
// legacy format, which every PyTorch version loads (the original Attention-Gated-Networks code ran
// on PyTorch 0.3/0.4). Written atomically.
void writeCheckpoint(const std::filesystem::path& path,
                     const std::vector<CheckpointTensor>& tensors);

}  // namespace gatescope
