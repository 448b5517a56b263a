#include "plugins/training/segmentation_loss.hpp"

#include <numeric>

#include "plugins/training/trainer.hpp"
#include "plugins/zoo/tensor_convert.hpp"

namespace gatescope {

namespace {

std::vector<int64_t> spatialAxes(const torch::Tensor& t) {
  std::vector<int64_t> axes(static_cast<size_t>(t.dim() - 2));
  std::iota(axes.begin(), axes.end(), int64_t{2});
  return axes;
}

}  // namespace

SegmentationLoss segmentationLoss(const torch::Tensor& logits, const torch::Tensor& labels,
                                  const LossWeights& weights) {
  const int64_t classes = logits.size(1);
  const torch::Tensor probabilities = torch::softmax(logits, 1);
  const torch::Tensor target =
      torch::zeros_like(probabilities).scatter_(1, labels.unsqueeze(1), 1.0);
  const std::vector<int64_t> axes = spatialAxes(logits);
  const torch::Tensor overlap = (probabilities * target).sum(axes);
  const torch::Tensor sizes = probabilities.sum(axes) + target.sum(axes);
  const torch::Tensor dice =
      (2.0 * overlap + weights.smooth) / (sizes + weights.smooth);  // (N, classes)
  SegmentationLoss loss;
  loss.dice = 1.0 - dice.narrow(1, 1, classes - 1).mean();
  loss.cross_entropy = torch::nn::functional::cross_entropy(logits, labels);
  loss.total = weights.dice * loss.dice + weights.cross_entropy * loss.cross_entropy;
  return loss;
}

std::optional<double> hardDice(const torch::Tensor& logits, const torch::Tensor& labels) {
  const torch::Tensor predicted = logits.argmax(1);
  double sum = 0.0;
  int counted = 0;
  for (int64_t c = 1; c < logits.size(1); ++c) {
    const torch::Tensor p = predicted == c, t = labels == c;
    const double sizes = (p.sum() + t.sum()).item<double>();
    if (sizes == 0) continue;
    sum += 2.0 * (p & t).sum().item<double>() / sizes;
    ++counted;
  }
  if (counted == 0) return std::nullopt;
  return sum / counted;
}

LossEvaluation evaluateSegmentationLoss(const TensorData& logits,
                                        const std::vector<int64_t>& labels,
                                        const LossWeights& weights) {
  torch::Tensor x = toTensor(logits).requires_grad_(true);
  std::vector<int64_t> label_shape = logits.shape;
  label_shape.erase(label_shape.begin() + 1);
  const torch::Tensor y =
      torch::from_blob(const_cast<int64_t*>(labels.data()), label_shape, torch::kInt64).clone();
  const SegmentationLoss loss = segmentationLoss(x, y, weights);
  loss.total.backward();
  return {loss.total.item<double>(), loss.dice.item<double>(), loss.cross_entropy.item<double>(),
          toTensorData(x.grad())};
}

}  // namespace gatescope
