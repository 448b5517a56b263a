#pragma once

// The training loss of the zoo's classifiers (docs/training.md), as the original code's
// AggregatedClassifier computes it: the cross-entropy of every head, weighted per head and summed.
#include <torch/torch.h>

#include <vector>

#include "analysis/models/model_manifest.hpp"

namespace gatescope {

// heads: (N, classes) logits each; classes: int64 (N). Each head's mean cross-entropy over the
// batch times its weight (the manifest's aggregation_weight, one per head; 1 for every head
// without it), summed over the heads.
[[nodiscard]] torch::Tensor classificationLoss(const std::vector<torch::Tensor>& heads,
                                               const torch::Tensor& classes,
                                               const ModelManifest& manifest);

// The aggregated prediction's class per image (N), softmax per head and then the manifest's
// aggregation, as inference does.
[[nodiscard]] std::vector<int> predictedClasses(const std::vector<torch::Tensor>& heads,
                                                const ModelManifest& manifest);

}  // namespace gatescope
