#pragma once

// State dicts of zoo networks: loading checkpoints by the original PyTorch key names, and the
// tensors to write a checkpoint PyTorch loads back. Internal to plugins/.
#include <filesystem>
#include <vector>

#include "analysis/models/model_manifest.hpp"
#include "plugins/checkpoint/checkpoint_file.hpp"
#include "plugins/zoo/networks.hpp"

namespace gatescope {

// Copies the checkpoint at `path` into `network` (built from `manifest`) by name; every missing,
// unexpected or mis-shaped key is reported at once in a FormatError naming the file.
// num_batches_tracked may be missing (checkpoints from before PyTorch 0.4.1).
void loadWeights(zoo::Network& network, const std::filesystem::path& path,
                 const ModelManifest& manifest);

// Parameters and buffers in the order of PyTorch's state_dict (per module: its parameters, its
// buffers, then its children), copied to the CPU.
[[nodiscard]] std::vector<CheckpointTensor> stateDictTensors(const torch::nn::Module& module);

}  // namespace gatescope
