#pragma once

// Training of zoo networks on LibTorch (gatescope train). Torch-free interface: the plugin
// registers trainZooModels as the registry's trainer.
#include <vector>

#include "analysis/models/model_adapter.hpp"
#include "analysis/models/training.hpp"

namespace gatescope {

// Adam on the soft Dice + cross-entropy loss of each network's logits (the fused deep-supervision
// output where a network has one), every model of the request on the same batches. Writes
// request.output/<name>/model.pth (state dict with the original PyTorch key names) and
// model.json (its manifest). On the CPU, the same request gives bit-identical checkpoints.
[[nodiscard]] TrainingResult trainZooModels(const TrainingRequest& request,
                                            const TrainingData& data,
                                            const TrainingObserver& observer);

struct LossEvaluation {
  double loss = 0.0;
  double dice_loss = 0.0;
  double cross_entropy = 0.0;
  TensorData gradient;  // d loss / d logits
};

// The training loss of `logits` (N, classes, spatial) against `labels` (N, spatial) and its
// gradient with respect to the logits.
[[nodiscard]] LossEvaluation evaluateSegmentationLoss(const TensorData& logits,
                                                      const std::vector<int64_t>& labels,
                                                      const LossWeights& weights);

}  // namespace gatescope
