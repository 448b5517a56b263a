#pragma once

#include <torch/torch.h>

#include <optional>

#include "analysis/models/training.hpp"

namespace gatescope {

struct SegmentationLoss {
  torch::Tensor total;  // dice weight * dice + cross-entropy weight * cross_entropy
  torch::Tensor dice;   // 1 - mean soft Dice over the foreground classes
  torch::Tensor cross_entropy;
};

// logits (N, classes, spatial), labels int64 (N, spatial). Soft Dice per sample and foreground
// class on the softmax probabilities, (2 |p t| + smooth) / (|p| + |t| + smooth), averaged;
// cross-entropy averaged over every voxel.
[[nodiscard]] SegmentationLoss segmentationLoss(const torch::Tensor& logits,
                                                const torch::Tensor& labels,
                                                const LossWeights& weights);

// Mean Dice of the argmax over the foreground classes present in the prediction or the labels;
// nothing when neither holds any foreground.
[[nodiscard]] std::optional<double> hardDice(const torch::Tensor& logits,
                                             const torch::Tensor& labels);

}  // namespace gatescope
